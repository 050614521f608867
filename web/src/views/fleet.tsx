import type { InstanceView, NodeView } from '../../../libs/contracts/src/views';
import type { Account } from '../auth';
import { LiveState, useAmsEvents, useLoad } from '../live';
import { Empty, ProblemBox, Section, Spinner, Status, Table, when } from '../ui';

function LiveBadge({ state }: { state: LiveState }) {
  const text = { connecting: 'connecting…', live: 'live', offline: 'reconnecting…' }[state];
  return <span class={`live ${state}`}>{text}</span>;
}

/** Nodes and instances, updated from the AMS events socket as they change. */
export function Fleet({ account }: { account: Account }) {
  const nodes = useLoad(() => account.api.list<NodeView>('/ams/1.0/nodes'));
  const instances = useLoad(() => account.api.list<InstanceView>('/ams/1.0/instances'));
  const live = useAmsEvents(account.token, () => {
    nodes.reload();
    instances.reload();
  });
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  return (
    <>
      <Section title="Nodes" aside={<LiveBadge state={live} />}>
        {nodes.problem && <ProblemBox problem={nodes.problem} />}
        {nodes.loading && <Spinner label="Loading nodes…" />}
        {nodes.data?.items.length === 0 && <Empty title="No nodes">Start a process with the node role to run instances.</Empty>}
        {!!nodes.data?.items.length && (
          <Table<NodeView>
            rows={nodes.data.items}
            keyOf={(n) => n.name}
            columns={[
              { label: 'Node', cell: (n) => <strong>{n.name}</strong> },
              { label: 'Status', cell: (n) => <Status value={n.unschedulable && n.status === 'online' ? 'draining' : n.status} /> },
              { label: 'CPUs', cell: (n) => `${n.allocated_cpus} / ${n.cpus}` },
              { label: 'Memory', cell: (n) => `${gib(n.allocated_memory)} / ${gib(n.memory)}` },
              { label: 'Instances', cell: (n) => n.instances },
              { label: 'Last seen', cell: (n) => when(n.last_seen) },
            ]}
          />
        )}
      </Section>
      <Section title="Instances" aside={instances.data && <span class="muted">{instances.data.total} in all</span>}>
        {instances.problem && <ProblemBox problem={instances.problem} />}
        {instances.loading && <Spinner label="Loading instances…" />}
        {instances.data?.items.length === 0 && <Empty title="No instances">Instances appear here when sessions start.</Empty>}
        {!!instances.data?.items.length && (
          <Table<InstanceView>
            rows={instances.data.items}
            keyOf={(i) => i.id}
            columns={[
              { label: 'Instance', cell: (i) => <code>{i.id.slice(0, 8)}</code> },
              { label: 'Application', cell: (i) => `${i.app} v${i.app_version}` },
              { label: 'Status', cell: (i) => <Status value={i.status} /> },
              { label: 'Node', cell: (i) => i.node ?? '—' },
              { label: 'Screen', cell: (i) => (i.screen ? `${i.screen.width} × ${i.screen.height}` : '—') },
              { label: 'Created', cell: (i) => when(i.created_at) },
            ]}
          />
        )}
      </Section>
    </>
  );
}
