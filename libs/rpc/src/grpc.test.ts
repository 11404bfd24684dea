/**
 * Errors cross gRPC with their code whatever their message: a refusal whose message echoes a
 * huge input used to overflow the trailers and reach the caller as a protocol error (INTERNAL).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ValidationError } from '@codestep/core';
import { MAX_STATUS_MESSAGE_CHARS, fromServiceError, implement } from './grpc.ts';

const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown };
const definition: grpc.ServiceDefinition = {
  refuse: {
    path: '/codestep.test.Test/Refuse',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

describe('gRPC error mapping', () => {
  it('sends a refusal with a 300,000-character message as its own code, the message cut to a bounded length', async () => {
    const server = new grpc.Server();
    server.addService(definition, implement(definition, { refuse: async () => Promise.reject(new ValidationError(`unknown provider "${'x'.repeat(300_000)}"`)) }));
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const Client = grpc.makeGenericClientConstructor(definition, 'Test');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const error = await new Promise<grpc.ServiceError>((resolve) => client.makeUnaryRequest(definition.refuse!.path, json.serialize, json.deserialize, {}, (e) => resolve(e!)));
      const mapped = fromServiceError(error, 'refuse');
      assert.equal(mapped.code, 'INVALID_ARGUMENT', mapped.message.slice(0, 200));
      assert.match(mapped.message, /^unknown provider "xxx/);
      assert.match(mapped.message, /message cut at 1000 of 300019 characters\)$/);
      assert.ok(mapped.message.length < MAX_STATUS_MESSAGE_CHARS + 100);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
