// Three lines to run varcheck's battery on your kernel inside your own vitest suite.
import { describeKernel } from 'varcheck/vitest';
import myKernel from './my-kernel.js';

describeKernel(myKernel);
