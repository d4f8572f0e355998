import { RpcException } from '@nestjs/microservices';
import { NotFoundException } from '@nestjs/common';
import { describeError, headerValue, statusOf } from './errors';

describe('describeError', () => {
  it('reads Errors, RpcExceptionsHandler objects, strings and anything else', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError({ status: 'error', message: 'Internal server error' })).toBe(
      'Internal server error',
    );
    expect(describeError('plain')).toBe('plain');
    expect(describeError({ code: 7 })).toBe('{"code":7}');
    expect(describeError(42)).toBe('42');
  });
});

describe('statusOf', () => {
  it('takes RpcException objects, HttpExceptions and statusCode; else 500', () => {
    expect(statusOf(new RpcException({ status: 404, message: 'x' }).getError())).toBe(404);
    expect(statusOf(new NotFoundException())).toBe(404);
    expect(statusOf({ statusCode: 409 })).toBe(409);
    expect(statusOf({ status: 'error', message: 'Internal server error' })).toBe(500);
    expect(statusOf(new Error('x'))).toBe(500);
  });
});

describe('headerValue', () => {
  it('flattens lines and truncates', () => {
    expect(headerValue('a\r\nb\nc')).toBe('a b c');
    expect(headerValue('x'.repeat(2000))).toHaveLength(1024);
  });
});
