import fs from 'node:fs';

/** What /proc says of a process or one of its threads (`/proc/<pid>` or `/proc/<pid>/task/<tid>`). */
function procTask(dir: string) {
  return {
    /** Times it went to sleep so far (voluntary context switches). */
    sleeps: () => Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(fs.readFileSync(`${dir}/status`, 'utf8'))![1]),
    /** CPU time used so far, in clock ticks (1/100 s). */
    cpuTicks: () => {
      const fields = fs.readFileSync(`${dir}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(fields[11]) + Number(fields[12]);
    },
  };
}

/**
 * For a worker that polls for its next call before it sleeps: makes `calls` calls one after
 * another, then leaves it idle for a second. How many times it slept between the calls, and the
 * CPU it used while idle (a worker that kept spinning would use the whole second).
 */
export async function sleepsAndIdleCpu(dir: string, calls: number, call: () => Promise<unknown>) {
  const task = procTask(dir);
  const before = task.sleeps();
  for (let i = 0; i < calls; i++) await call();
  const slept = task.sleeps() - before;
  const idleFrom = task.cpuTicks();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return { slept, idleTicks: task.cpuTicks() - idleFrom };
}
