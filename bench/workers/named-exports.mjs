// piscina and tinypool call a named export with the task as its one argument.
export { burn, echo } from './burn.mjs';
