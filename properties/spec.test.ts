/** Runs every law of the spec battery (properties/index.ts). */
import { specLaws } from './index.js';
import { describeLaws } from './vitest.js';

describeLaws('spec battery', specLaws);
