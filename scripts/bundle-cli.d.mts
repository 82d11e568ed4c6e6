/** Bundle `root`/dist/cli/main.js into `root`/dist/bin/ (replaced whole). */
export function bundleCli(root: string): Promise<void>;
