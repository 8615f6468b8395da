import { expose } from 'weft/worker';
import { burn, echo } from './burn.mjs';

expose({ echo, burn });
