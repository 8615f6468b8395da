import { ThreadWorker } from 'poolifier';
import { burn, echo } from './burn.mjs';

export default new ThreadWorker({ echo, burn });
