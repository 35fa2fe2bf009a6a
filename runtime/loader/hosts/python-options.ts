import fs from 'node:fs';
import path from 'node:path';
import type { CapabilitySpec } from '../../capability/types.js';
import { pollMicros } from '../poll-micros.js';

export interface PythonOptions {
  interpreter: string;
  workers: number;
  /** How long an idle worker busy-polls for its next call before it sleeps (asf_worker/framing.py), in µs. */
  pollMicros: number;
}

/** Virtualenvs in the capability folder that are used when nothing else names an interpreter. */
const venvs = ['.venv/bin/python', 'venv/bin/python'];

/**
 * Interpreter: $ASF_PYTHON, else capability.yaml `python.interpreter`, else the folder's own
 * virtualenv, else python3. Workers: $ASF_PYTHON_WORKERS, else `python.workers`, else 1.
 * Polling: $ASF_PYTHON_POLL_MICROS, else `python.pollMicros`, else 1000 (0: never poll).
 */
export function pythonOptions(spec: CapabilitySpec, env: NodeJS.ProcessEnv = process.env): PythonOptions {
  const venv = venvs.map((file) => path.join(spec.dir, file)).find((file) => fs.existsSync(file));
  const interpreter = env['ASF_PYTHON'] || resolveIn(spec.dir, spec.python?.interpreter) || venv || 'python3';
  const fromEnv = env['ASF_PYTHON_WORKERS'];
  const workers = fromEnv ? Number(fromEnv) : (spec.python?.workers ?? 1);
  if (!Number.isInteger(workers) || workers < 1) {
    throw new Error(`ASF_PYTHON_WORKERS must be a positive integer, got '${fromEnv}'`);
  }
  return { interpreter, workers, pollMicros: pollMicros('ASF_PYTHON_POLL_MICROS', spec.python?.pollMicros, env) };
}

/** A path with a slash is taken relative to the capability folder; a bare name is looked up on PATH. */
function resolveIn(dir: string, interpreter: string | undefined): string | undefined {
  if (!interpreter) return undefined;
  return interpreter.includes('/') ? path.resolve(dir, interpreter) : interpreter;
}
