// Progress for long steps: a bar on a terminal, one line per item in logs (CI, pipes).
import cliProgress from 'cli-progress';

export interface Progress {
  /** Moves the bar by `amount` (items or bytes) and names what is being worked on. */
  tick(amount: number, label?: string): void;
  done(summary?: string): void;
}

function human(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
export { human as humanBytes };

export function progress(title: string, total: number, unit: 'items' | 'bytes' = 'items'): Progress {
  const show = (n: number) => (unit === 'bytes' ? human(n) : String(n));
  if (!process.stderr.isTTY) {
    let value = 0;
    // Items get a line each; bytes only their label changes (a line per chunk would flood logs).
    let lastLabel = '';
    return {
      tick(amount, label) {
        value += amount;
        if (label && (unit === 'items' ? amount > 0 : label !== lastLabel)) process.stderr.write(`${title}: ${label}${unit === 'items' ? ` (${value}/${total})` : ''}\n`);
        lastLabel = label ?? lastLabel;
      },
      done(summary) {
        process.stderr.write(`${title}: ${summary ?? `${show(value)} done`}\n`);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${title.padEnd(10)} [{bar}] {percentage}% | {shown}/{totalShown} | {label}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let value = 0;
  bar.start(Math.max(total, 1), 0, { label: '', shown: show(0), totalShown: show(total) });
  return {
    tick(amount, label) {
      value += amount;
      bar.update(value, { label: label ?? '', shown: show(value), totalShown: show(total) });
    },
    done(summary) {
      bar.update(Math.max(total, 1), { label: summary ?? 'done', shown: show(value), totalShown: show(total) });
      bar.stop();
    },
  };
}
