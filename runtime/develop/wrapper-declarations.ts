import { spawnSync } from 'node:child_process';
import { CapabilityError } from '../capability/load.js';
import type { CapabilitySchema, CapabilitySpec } from '../capability/types.js';
import { pythonOptions } from '../loader/hosts/python-options.js';
import { workerProgram } from '../loader/hosts/python-worker.js';

/**
 * What a Python capability's wrapper.py declares of its schema, read offline by the worker's own
 * code (runtime/python/asf_worker/declared.py) with the interpreter the loader would use, so that
 * `asf schema` and `asf validate` see the schema the gateway will. Fails, saying why, when the
 * wrapper cannot be imported: an answer without its declarations would be wrong.
 */
export function wrapperDeclarations(spec: CapabilitySpec): Partial<CapabilitySchema> {
  const { interpreter } = pythonOptions(spec);
  const run = spawnSync(interpreter, [workerProgram, 'declared-schema'], { cwd: spec.dir, encoding: 'utf8' });
  const cannot = (why: string) => new CapabilityError(`cannot read the schema ${spec.entry} declares: ${why}`);
  if (run.error) {
    const code = (run.error as NodeJS.ErrnoException).code;
    throw cannot(code === 'ENOENT' ? `Python interpreter ${interpreter} not found (set up the capability's environment, or set python.interpreter or ASF_PYTHON)` : run.error.message);
  }
  let reply: { ok: boolean; schema?: Partial<CapabilitySchema>; message?: string };
  try {
    reply = JSON.parse(run.stdout);
  } catch {
    throw cannot(`${interpreter} exited with ${run.signal ?? `code ${run.status}`}: ${run.stderr.trim().split('\n').at(-1) ?? ''}`);
  }
  if (!reply.ok) throw cannot(reply.message ?? 'unknown error');
  return reply.schema ?? {};
}
