/**
 * Whether the WASM backend's threads pay here and now. XNNPACK splits each kernel across its
 * threads and waits for all of them, so on a machine whose cores are busy with other work a
 * kernel waits for whichever thread was descheduled: on this project's shared 2-core machine
 * (load average ~14) two threads made a udnie tiny frame at 160 px 9x slower (112 vs 12 ms),
 * while on an idle machine they cut it. So the engine times the same frame both ways, in
 * alternation (the load drifts), and keeps the faster.
 */
export interface ThreadChoice {
  threads: number;
  /** Median ms of the probe frame at each thread count tried. */
  ms: Record<number, number>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Times `probe` (one frame, ms) with `wanted` threads and with one, `rounds` times each in
 * alternation, and leaves the backend on the faster (`setThreads`). With `wanted` ≤ 1 it
 * measures nothing and keeps one thread.
 */
export async function chooseThreads(probe: () => Promise<number>, setThreads: (n: number) => void, wanted: number, rounds = 3): Promise<ThreadChoice> {
  if (wanted <= 1) return { threads: 1, ms: {} };
  const times: Record<number, number[]> = { [wanted]: [], 1: [] };
  for (let i = 0; i < rounds; i++) {
    for (const n of i % 2 ? [1, wanted] : [wanted, 1]) {
      setThreads(n);
      times[n]!.push(await probe());
    }
  }
  const ms = { [wanted]: median(times[wanted]!), 1: median(times[1]!) };
  // Threads must win clearly: a tie keeps one (cheaper for everything else on the machine).
  const threads = ms[wanted]! < 0.9 * ms[1]! ? wanted : 1;
  setThreads(threads);
  return { threads, ms };
}
