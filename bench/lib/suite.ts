import type { ScenarioResult } from './harness.js';

/** One benchmark suite, a file in bench/suites/ whose default export is this. */
export interface Suite {
  /** Short id used on the command line: `npm run bench -- sync`. */
  name: string;
  /** Heading in docs/benchmarks.md. */
  title: string;
  /** A paragraph (markdown) on what is measured and how to read it. */
  description: string;
  /** Runs every scenario; `quick` asks for fewer rounds / smaller sizes (used by smoke tests). */
  run(options: { quick: boolean; log: (line: string) => void }): Promise<ScenarioResult[]>;
}
