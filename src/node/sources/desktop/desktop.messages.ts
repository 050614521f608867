/** What crosses the IPC channel between the runtime and an x11 instance's desktop helper. Dependency-free. */

export interface DesktopConfig {
  display: string;
  width: number;
  height: number;
}

/** Runtime -> desktop. */
export type DesktopInbound = { kind: 'resize'; id: number; width: number; height: number } | { kind: 'clipboard'; text: string };

/** Desktop -> runtime. */
export type DesktopOutbound =
  | { kind: 'ready'; width: number; height: number }
  | { kind: 'resized'; id: number; width: number; height: number }
  | { kind: 'resize-failed'; id: number; reason: string }
  /** The application copied this text. */
  | { kind: 'clipboard'; text: string };

const isSize = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 65535;

export function parseDesktopInbound(m: unknown): DesktopInbound | null {
  if (typeof m !== 'object' || m === null) return null;
  const msg = m as Record<string, unknown>;
  if (msg.kind === 'resize' && Number.isInteger(msg.id) && isSize(msg.width) && isSize(msg.height)) return { kind: 'resize', id: msg.id as number, width: msg.width, height: msg.height };
  if (msg.kind === 'clipboard' && typeof msg.text === 'string') return { kind: 'clipboard', text: msg.text };
  return null;
}
