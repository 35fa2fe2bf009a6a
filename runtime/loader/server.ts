import * as grpc from '@grpc/grpc-js';
import { defaultMaxMessageBytes, loaderPipeService, pipeCallIdKey, toolBoxService, xsfCallService } from '../protocol/codec.js';
import { ErrorCode } from '../protocol/errors.js';
import { healthCheckMethod, ServingStatus, type HealthCheckRequest, type HealthCheckResponse } from '../protocol/health.js';
import type { ReqBatch, ReqData, ResBatch, ResData, ToolRequest, ToolResponse } from '../protocol/messages.js';
import { TurnBatcher } from '../protocol/turn-batcher.js';
import type { Loader } from './loader.js';
import { answerToolQuery } from './toolbox.js';

export interface LoaderServerOptions {
  host?: string;
  port?: number;
  maxMessageBytes?: number;
}

export interface LoaderServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves a Loader over gRPC: /utils.XsfCall/call, /asf.LoaderPipe/pipe, /utils.ToolBox/cmdserver,
 * and the standard /grpc.health.v1.Health/Check (SERVING once the wrapper has loaded), which
 * Kubernetes' gRPC readiness probe calls.
 */
export async function serveLoader(loader: Loader, options: LoaderServerOptions = {}): Promise<LoaderServer> {
  const max = options.maxMessageBytes ?? defaultMaxMessageBytes;
  const server = new grpc.Server({
    'grpc.max_send_message_length': max,
    'grpc.max_receive_message_length': max,
  });

  server.addService(xsfCallService, {
    call: (call: grpc.ServerUnaryCall<ReqData, ResData>, callback: grpc.sendUnaryData<ResData>) => {
      loader.handle(call.request).then(
        (res) => callback(null, res),
        (err: Error) => callback({ code: grpc.status.INTERNAL, details: err.message }),
      );
    },
  });

  server.addService(loaderPipeService, {
    pipe: (call: grpc.ServerDuplexStream<ReqBatch, ResBatch>) => {
      // Headers now tell the gateway the pipe is established (requests sent from here on reach us).
      call.sendMetadata(new grpc.Metadata());
      const answers = new TurnBatcher<ResData>((batch) => call.write({ answers: batch }));
      call.on('data', (batch: ReqBatch) => {
        for (const req of batch.calls ?? []) {
          const id = req.param?.[pipeCallIdKey] ?? '';
          loader.handle(req).then(
            (res) => {
              (res.param ??= {})[pipeCallIdKey] = id;
              answers.push(res);
            },
            (err: Error) => answers.push({ code: ErrorCode.Internal, error_info: err.message, param: { [pipeCallIdKey]: id } }),
          );
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => answers.discard()); // the gateway went away; its answers have nowhere to go
    },
  });

  server.addService(toolBoxService, {
    cmdserver: (call: grpc.ServerUnaryCall<ToolRequest, ToolResponse>, callback: grpc.sendUnaryData<ToolResponse>) => {
      callback(null, { body: answerToolQuery(loader, call.request) });
    },
  });

  server.addService({ check: healthCheckMethod }, {
    check: (call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: grpc.sendUnaryData<HealthCheckResponse>) => {
      // "" asks about the server as a whole, the usual probe; the capability's own services answer the same.
      const known = ['', 'utils.XsfCall', 'asf.LoaderPipe'];
      if (!known.includes(call.request.service)) return callback(null, { status: ServingStatus.ServiceUnknown });
      callback(null, { status: loader.serving ? ServingStatus.Serving : ServingStatus.NotServing });
    },
  });

  const address = `${options.host ?? '0.0.0.0'}:${options.port ?? 5090}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // In-flight calls get a moment to finish, then the rest are cut.
        setTimeout(() => server.forceShutdown(), 2000).unref();
      }),
  };
}
