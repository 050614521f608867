import type { ComponentChildren } from 'preact';
import type { Problem } from './errors';

export function Spinner({ label }: { label: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function ProblemBox({ problem, children }: { problem: Problem; children?: ComponentChildren }) {
  return (
    <div class="problem" role="alert">
      <strong>{problem.title}</strong>
      <p>{problem.detail}</p>
      {children}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <strong>{title}</strong>
      {children && <p>{children}</p>}
    </div>
  );
}

const TONES: Record<string, string> = {
  active: 'good',
  running: 'good',
  online: 'good',
  created: 'busy',
  prepared: 'busy',
  started: 'busy',
  terminating: 'busy',
  stopping: 'busy',
  draining: 'busy',
  error: 'bad',
  offline: 'bad',
};

export function Status({ value }: { value: string }) {
  return <span class={`badge ${TONES[value] ?? 'quiet'}`}>{value}</span>;
}

export function Section({ title, aside, children }: { title: string; aside?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="section">
      <header class="section-head">
        <h1>{title}</h1>
        {aside}
      </header>
      {children}
    </section>
  );
}

/** A table on wide screens, a list of cards on narrow ones (the labels come with each cell). */
export function Table<T>({ rows, columns, keyOf }: { rows: T[]; keyOf: (row: T) => string; columns: { label: string; cell: (row: T) => ComponentChildren }[] }) {
  return (
    <table class="table">
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.label}>{c.label}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={keyOf(row)}>
            {columns.map((c) => (
              <td key={c.label} data-label={c.label}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
