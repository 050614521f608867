import { HttpException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception';
import { DomainError, ERROR_STATUS, ErrorCode, ErrorPayload, isErrorPayload } from '@streamstack/contracts';
import { describeError, isNatsConnectionError } from './nats/nats-errors';

/** HTTP status -> the first domain code with that status (404 -> not_found, 503 -> unavailable). */
function codeForStatus(status: number): ErrorCode {
  const hit = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((code) => ERROR_STATUS[code] === status);
  return hit ?? (status >= 400 && status < 500 ? 'invalid_argument' : 'internal');
}

function httpExceptionMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  // ValidationPipe puts one message per failed constraint in an array.
  if (Array.isArray(message)) return message.map(String).join('; ');
  if (typeof message === 'string') return message;
  return exception.message;
}

/**
 * What a handler's exception becomes on the wire: `{code, message}`, no stack. Used by the RPC
 * exception filter, identical for both transports.
 */
export function toErrorPayload(exception: unknown): ErrorPayload {
  if (exception instanceof DomainError) return exception.toPayload();
  if (exception instanceof RpcException) {
    const error = exception.getError();
    if (isErrorPayload(error)) return { code: error.code, message: error.message };
    return { code: 'internal', message: typeof error === 'string' ? error : describeError(error) };
  }
  if (exception instanceof HttpException) {
    return { code: codeForStatus(exception.getStatus()), message: httpExceptionMessage(exception) };
  }
  // A DomainError from another copy of the contracts package, or a payload thrown as is.
  if (isErrorPayload(exception)) return { code: exception.code, message: exception.message };
  return { code: 'internal', message: describeError(exception) };
}

/**
 * What a failed request becomes for the caller: always a DomainError, whichever transport
 * carried it (a handler's `{code, message}`, a NATS no-responders status, a lost connection).
 */
export function toDomainError(err: unknown, pattern: string): DomainError {
  if (err instanceof DomainError) return err;
  if (isErrorPayload(err)) return new DomainError(err.code, err.message);
  // ClientNats raises this on the NATS 503 no-responders status; LocalClientProxy mirrors it.
  if (err instanceof EmptyResponseException) return new DomainError('no_responder', nobodyServes(pattern));
  if (isNatsConnectionError(err)) {
    return new DomainError('unavailable', `cannot send ${pattern}: message bus unavailable (${describeError(err)})`);
  }
  return new DomainError('internal', describeError(err));
}

/**
 * A request its target never answered (gone, hung, or the bus down), as against one it refused:
 * worth retrying later or elsewhere.
 */
export function unanswered(err: DomainError): boolean {
  return err.code === 'unavailable' || err.code === 'timeout' || err.code === 'no_responder';
}

/**
 * What it means that nothing answered `pattern`, in words an operator can act on (which role is
 * not running or not reachable), the subject in brackets for whoever reads the code.
 */
export function nobodyServes(pattern: string): string {
  const [owner, name] = pattern.split('.');
  let who: string;
  if (owner === 'gateway') who = 'no gateway is running';
  else if (owner === 'ams') who = 'AMS is not running';
  else if (owner === 'agent' && (name === 'register' || name === 'heartbeat' || name === 'instance')) who = 'no stream agent is running';
  else if (owner === 'agent') who = `no stream agent serves region "${name}"`;
  else if (owner === 'node') who = `node "${name}" is not running or not reachable`;
  else if (owner === 'signal') who = `nothing streams session ${name}`;
  else who = 'nothing handles it';
  return `${who} (${pattern})`;
}
