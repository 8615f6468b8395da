import { expose } from 'weftjs/worker';
import { burn, echo } from './burn.mjs';

expose({ echo, burn });
