// grpc.health.v1.Health/Check, the standard gRPC health check: what a Kubernetes `grpc:` probe
// calls. Two one-field messages, so they are coded by hand: HealthCheckRequest {1: string service},
// HealthCheckResponse {1: enum ServingStatus}.
import { ProtoReader } from './wire.js';

export const ServingStatus = { Unknown: 0, Serving: 1, NotServing: 2, ServiceUnknown: 3 } as const;
export type ServingStatus = (typeof ServingStatus)[keyof typeof ServingStatus];

export interface HealthCheckRequest {
  service: string;
}
export interface HealthCheckResponse {
  status: ServingStatus;
}

const serviceField = (1 << 3) | 2; // field 1, length-delimited
const statusField = (1 << 3) | 0; // field 1, varint

function decodeRequest(bytes: Buffer): HealthCheckRequest {
  const reader = new ProtoReader(bytes);
  let service = '';
  while (reader.more()) {
    const tag = reader.tag();
    if (tag === serviceField) service = reader.string();
    else reader.skip(tag);
  }
  return { service };
}

function encodeRequest({ service }: HealthCheckRequest): Buffer {
  const text = Buffer.from(service);
  if (text.length > 127) throw new Error('health check service name longer than 127 bytes');
  return text.length ? Buffer.concat([Buffer.from([serviceField, text.length]), text]) : Buffer.alloc(0);
}

function decodeResponse(bytes: Buffer): HealthCheckResponse {
  const reader = new ProtoReader(bytes);
  let status: number = ServingStatus.Unknown;
  while (reader.more()) {
    const tag = reader.tag();
    if (tag === statusField) status = reader.uint32();
    else reader.skip(tag);
  }
  return { status: status as ServingStatus };
}

// Every status fits one varint byte; UNKNOWN (0) is the default and goes as an empty message.
const encodeResponse = ({ status }: HealthCheckResponse) => (status ? Buffer.from([statusField, status]) : Buffer.alloc(0));

export const healthCheckMethod = {
  path: '/grpc.health.v1.Health/Check',
  requestStream: false,
  responseStream: false,
  requestSerialize: encodeRequest,
  requestDeserialize: decodeRequest,
  responseSerialize: encodeResponse,
  responseDeserialize: decodeResponse,
} as const;
