import type { NextFunction, Request, Response } from 'express';
import type { StreamstackConfig } from '../../config/config.schema';
import { errorEnvelope } from './envelope';

/**
 * Whether a browser page on `origin` may use this server (STREAMSTACK_ALLOWED_ORIGINS). No
 * Origin header (a script, the CLI) and an empty list pass; the server's own public origin
 * (the dashboard it serves) always does.
 */
export function originAllowed(config: StreamstackConfig, origin: string | undefined): boolean {
  if (!origin || config.allowedOrigins.length === 0) return true;
  if (config.allowedOrigins.includes(origin)) return true;
  try {
    return new URL(config.publicUrl).origin === origin;
  } catch {
    return false;
  }
}

/**
 * Refuses API requests from pages on other origins with 403. CORS alone only keeps the page from
 * reading the answer: the request (a session created, say) would still have been carried out.
 */
export function refuseForeignOrigins(config: StreamstackConfig) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (originAllowed(config, origin)) return next();
    res.status(403).json(errorEnvelope(403, `origin ${origin} is not allowed (STREAMSTACK_ALLOWED_ORIGINS)`, 'forbidden'));
  };
}
