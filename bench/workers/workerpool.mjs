import workerpool from 'workerpool';
import { burn, echo } from './burn.mjs';

workerpool.worker({ echo, burn });
