import { pathToFileURL } from 'node:url';
import { ErrorCode } from '../../protocol/errors.js';
import { DataType } from '../../protocol/messages.js';
import type { CapabilitySpec } from '../../capability/types.js';
import { WrapperError, type DataItem, type DataStatus, type OnceRequest, type SessionRequest, type WrapperHost, type WrapperSession } from '../host.js';

/** A DataListNode as JS wrappers receive it, mirroring the Python SDK. */
export interface JsDataNode {
  key: string;
  data: Buffer;
  len: number;
  status: DataStatus;
  type: DataType;
  attrs: Record<string, string>;
}

export interface JsDataList {
  list: JsDataNode[];
  get(key: string): JsDataNode | undefined;
}

export interface JsResponseItem {
  key: string;
  data: Buffer | Uint8Array | string;
  type?: DataType;
  status?: DataStatus;
}

export interface JsResponse {
  list: JsResponseItem[];
  error_code?: number;
}

/** The functions a JS/TS capability module exports (the Python class style, as plain functions). */
export interface JsWrapperModule {
  wrapperInit?(config: Record<string, string>): number | void | Promise<number | void>;
  wrapperFini?(): number | void | Promise<number | void>;
  wrapperError?(code: number): string;
  wrapperOnceExec(params: Record<string, string>, reqData: JsDataList, usrTag: string): JsResponse | Promise<JsResponse>;
  /** Streaming: returns the session handle, or {handle, error_code} as the Python SDK's SessionCreateResponse. */
  wrapperCreate?(params: Record<string, string>, sid: string): JsHandle | { handle: JsHandle; error_code?: number } | Promise<JsHandle | { handle: JsHandle; error_code?: number }>;
  wrapperWrite?(handle: JsHandle, reqData: JsDataList, sid: string): number | void | Promise<number | void>;
  wrapperRead?(handle: JsHandle): JsResponse | Promise<JsResponse>;
  wrapperDestroy?(handle: JsHandle): number | void | Promise<number | void>;
}

/** A session handle is whatever the module's wrapperCreate chose to return. */
export type JsHandle = string | number | object;

/** Hosts a capability written as a JS or TS module inside the loader process. */
export class JsHost implements WrapperHost {
  private module?: JsWrapperModule;

  constructor(private readonly spec: CapabilitySpec) {}

  async start(config: Record<string, string>) {
    const module = await importModule(this.spec.entry);
    if (typeof module.wrapperOnceExec !== 'function') {
      throw new WrapperError(ErrorCode.WrapperInit, `${this.spec.entry} does not export a wrapperOnceExec function`);
    }
    const ret = await guard(ErrorCode.WrapperInit, () => module.wrapperInit?.(config));
    if (ret) throw new WrapperError(ErrorCode.WrapperInit, `wrapperInit returned ${ret}: ${errorText(module, ret)}`);
    this.module = module;
    return {};
  }

  async once(request: OnceRequest): Promise<DataItem[]> {
    const module = this.module;
    if (!module) throw new WrapperError(ErrorCode.WrapperInit, 'wrapper is not initialised');
    const response = await guard(ErrorCode.WrapperExec, () => module.wrapperOnceExec(request.params, dataList(request.inputs), request.sid));
    return responseItems(module, response, 'wrapperOnceExec', ErrorCode.WrapperExec, 3);
  }

  async openSession(request: SessionRequest): Promise<WrapperSession> {
    const module = this.module;
    const { wrapperCreate, wrapperWrite, wrapperRead, wrapperDestroy } = module ?? {};
    if (!module || !wrapperCreate || !wrapperWrite || !wrapperRead) {
      throw new WrapperError(ErrorCode.InvalidOperation, `${this.spec.entry} does not export wrapperCreate, wrapperWrite and wrapperRead: it serves one-shot requests only`);
    }
    const created = await guard(ErrorCode.WrapperCreate, () => wrapperCreate(request.params, request.sid));
    const { handle, error_code: code } = typeof created === 'object' && created !== null && 'handle' in created ? created : { handle: created, error_code: 0 };
    if (code) throw new WrapperError(ErrorCode.WrapperCreate, errorText(module, code), code);
    // As AIGES reports them: the failed call's 109xx code, with the wrapper's own code and text in the message.
    const checkRet = (code: number, name: string, ret: number | void) => {
      if (ret) throw new WrapperError(code, `${name} returned ${ret}: ${errorText(module, ret)}`, ret);
    };
    return {
      write: async (inputs) => checkRet(ErrorCode.WrapperWrite, 'wrapperWrite', await guard(ErrorCode.WrapperWrite, () => wrapperWrite(handle, dataList(inputs), request.sid))),
      read: async () => responseItems(module, await guard(ErrorCode.WrapperRead, () => wrapperRead(handle)), 'wrapperRead', ErrorCode.WrapperRead, 1),
      destroy: async () => checkRet(ErrorCode.WrapperDestroy, 'wrapperDestroy', await guard(ErrorCode.WrapperDestroy, () => wrapperDestroy?.(handle))),
    };
  }

  async stop() {
    await this.module?.wrapperFini?.();
    this.module = undefined;
  }
}

function dataList(inputs: DataItem[]): JsDataList {
  const list: JsDataNode[] = inputs.map(({ key, data, status, type, attrs }) => ({ key, data, len: data.length, status, type, attrs }));
  return { list, get: (key) => list.find((node) => node.key === key) };
}

/** A Response's items, or its error_code as a WrapperError; `status` is the default item status. */
function responseItems(module: JsWrapperModule, response: JsResponse, call: string, code: number, status: DataStatus): DataItem[] {
  if (response?.error_code) {
    throw new WrapperError(code, errorText(module, response.error_code), response.error_code);
  }
  if (!Array.isArray(response?.list)) {
    throw new WrapperError(code, `${call} did not return a response with a list`);
  }
  return response.list.map((item) => ({
    key: item.key,
    data: toBuffer(item.data),
    type: item.type ?? DataType.TEXT,
    status: item.status ?? status,
    attrs: {},
  }));
}

async function importModule(file: string): Promise<JsWrapperModule> {
  if (file.endsWith('.ts')) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(pathToFileURL(file).href, import.meta.url)) as JsWrapperModule;
  }
  return (await import(pathToFileURL(file).href)) as JsWrapperModule;
}

/** Runs user code; anything it throws becomes a WrapperError with the call's code. */
async function guard<T>(code: number, call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WrapperError) throw err;
    throw new WrapperError(code, err instanceof Error ? err.message : String(err));
  }
}

function errorText(module: JsWrapperModule, code: number): string {
  try {
    return module.wrapperError?.(code) ?? `wrapper error ${code}`;
  } catch {
    return `wrapper error ${code}`;
  }
}

function toBuffer(data: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
