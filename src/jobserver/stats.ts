/** The JobServer's statistics, and the table `printStats()` prints (pp's `print_stats()` layout). */

export interface NodeStats {
  /** Jobs the node takes at a time. */
  ncpus: number;
  /** Jobs finished there. */
  njobs: number;
  /** Their time, from the moment the node took each job to its result, ms. */
  timeMs: number;
  /** Jobs running there now. */
  running: number;
}

export function formatStats(stats: Record<string, NodeStats>, elapsedMs: number): string {
  const nodes = Object.entries(stats);
  const total = nodes.reduce((sum, [, s]) => sum + s.njobs, 0);
  // pp's very lines, so output compared with pp's lines up: times in seconds, as pp gives them.
  const lines = ['Job execution statistics:', ' job count | % of all jobs | job time sum | time per job | job server'];
  // As pp: a node that ran nothing has no row, and "cores" are the local ones (pp's get_ncpus()).
  for (const [name, s] of nodes.filter(([, node]) => node.njobs > 0)) {
    const share = total === 0 ? 0 : (100 * s.njobs) / total;
    const perJob = s.njobs === 0 ? 0 : s.timeMs / s.njobs / 1000;
    lines.push(
      `${String(s.njobs).padStart(10)} | ${share.toFixed(2).padStart(13)} | ${(s.timeMs / 1000).toFixed(4).padStart(12)} | ` +
        `${perJob.toFixed(6).padStart(12)} | ${name}`,
    );
  }
  const running = nodes.reduce((sum, [, s]) => sum + s.running, 0);
  const cpus = stats.local?.ncpus ?? 0;
  lines.push(
    `Time elapsed since server creation ${elapsedMs / 1000}`,
    `${running} active tasks, ${cpus} cores`,
    '', // pp's closing print(""): an empty line
    '',
  );
  return lines.join('\n');
}
