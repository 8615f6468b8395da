// The floor of the process pool benchmark: a child process answering one IPC message per task.
import { burn } from './burn.mjs';

process.on('message', ([id, fn, argument]) => {
  process.send([id, fn === 0 ? argument : fn === 1 ? burn(argument) : process.memoryUsage().rss]);
});
