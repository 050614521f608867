import { useState } from 'preact/hooks';
import type { Session } from '../../../libs/client-sdk/src';
import type { Account } from '../auth';
import { problemOf, Problem } from '../errors';
import { useLoad } from '../live';
import { Empty, ProblemBox, Section, Spinner, Status, Table, when } from '../ui';

const LIVE = ['created', 'active'];

export function Sessions({ account, onJoin }: { account: Account; onJoin: (id: string, spectator: boolean) => void }) {
  const sessions = useLoad(() => account.api.sessions({ limit: 100 }), 3000);
  const [problem, setProblem] = useState<Problem | null>(null);
  const end = async (id: string) => {
    setProblem(null);
    try {
      await account.api.endSession(id);
    } catch (e) {
      setProblem(problemOf(e));
    }
    sessions.reload();
  };
  const rows = sessions.data?.items ?? [];
  return (
    <Section title={account.admin ? 'All sessions' : 'Your sessions'}>
      {(problem ?? sessions.problem) && <ProblemBox problem={(problem ?? sessions.problem)!} />}
      {sessions.loading && <Spinner label="Loading sessions…" />}
      {sessions.data && rows.length === 0 && <Empty title="No sessions">Start an application to open one.</Empty>}
      {rows.length > 0 && (
        <Table<Session>
          rows={rows}
          keyOf={(s) => s.id}
          columns={[
            { label: 'Application', cell: (s) => <strong>{s.app}</strong> },
            { label: 'Status', cell: (s) => <Status value={s.status} /> },
            { label: 'Screen', cell: (s) => `${s.screen.width} × ${s.screen.height}` },
            { label: 'Node', cell: (s) => s.node ?? '—' },
            { label: 'Peers', cell: (s) => `${s.peers.driver ? 'driver' : 'no driver'}${s.peers.spectators ? ` + ${s.peers.spectators} watching` : ''}` },
            { label: 'Started', cell: (s) => when(s.created_at) },
            {
              label: 'Actions',
              cell: (s) =>
                LIVE.includes(s.status) ? (
                  <span class="actions">
                    {s.joinable && (
                      <button class="button" onClick={() => onJoin(s.id, false)}>
                        Join
                      </button>
                    )}
                    <button class="button" data-watch={s.id} onClick={() => onJoin(s.id, true)} title="View only, beside whoever drives it">
                      Watch
                    </button>
                    <button class="button danger" data-end={s.id} onClick={() => void end(s.id)}>
                      End
                    </button>
                  </span>
                ) : (
                  <span class="muted">{s.status_message || '—'}</span>
                ),
            },
          ]}
        />
      )}
    </Section>
  );
}
