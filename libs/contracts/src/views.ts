import type { InstanceStatus } from './instances';

/*
 * What the HTTP APIs answer (PROTOCOL.md §3, §6): one definition for the services that build
 * these, the CLI, the client SDK and the dashboard. Nothing here imports the server's code, so
 * browser bundles take it as it is.
 */

export const ACCOUNT_ROLES = ['admin', 'client'] as const;
export type AccountRole = (typeof ACCOUNT_ROLES)[number];

export const SESSION_STATUSES = ['created', 'active', 'terminating', 'terminated', 'error'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** A session's or an instance's remote screen. */
export interface ScreenView {
  width: number;
  height: number;
  fps: number;
  density: number;
}

export interface AccountView {
  id: string;
  name: string;
  role: AccountRole;
  created_at: string;
}

export interface SessionView {
  id: string;
  app: string;
  app_version: number | null;
  region: string;
  instance_id: string | null;
  node: string | null;
  joinable: boolean;
  ephemeral: boolean;
  idle_time_min: number;
  status: SessionStatus;
  status_message: string;
  screen: ScreenView;
  /** Who is connected: the driving client (its peer connection is up) and the view-only ones. */
  peers: { driver: boolean; spectators: number };
  /** Its instance is starting again (its node restarted); clients join again once this is false. */
  instance_restarting: boolean;
  created_at: string;
  updated_at: string;
}

export interface InstanceView {
  id: string;
  app: string;
  app_version: number;
  node: string | null;
  status: InstanceStatus;
  status_message: string;
  screen: ScreenView;
  /** CPUs and bytes of memory it reserves on its node. */
  resources: { cpus: number; memory: number };
  enable_streaming: boolean;
  session_id: string | null;
  user_data: unknown;
  created_at: string;
  updated_at: string;
}

export interface NodeView {
  name: string;
  address: string;
  cpus: number;
  /** Bytes. */
  memory: number;
  cpu_allocation_rate: number;
  memory_allocation_rate: number;
  /** What its instances reserve now (memory in bytes). */
  allocated_cpus: number;
  allocated_memory: number;
  instances: number;
  status: 'online' | 'offline' | 'draining';
  unschedulable: boolean;
  last_seen: string;
}
