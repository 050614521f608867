import { Command, SubCommand } from 'nest-commander';
import { formatBytes, formatTime, printTable, terminal } from './output';
import type { NodeView } from '@streamstack/contracts';
import { Flags, printResult, RemoteCommand, RemoteContext, VerbCommand } from './remote-command';


/** "used/capacity", where capacity already includes the over-commit rate. */
const usage = (used: string | number, capacity: string | number) => `${used}/${capacity}`;

@SubCommand({ name: 'list', aliases: ['ls'], description: 'List nodes with their capacity and load' })
export class NodeListCommand extends RemoteCommand {
  protected async execute(_params: string[], _flags: Flags, ctx: RemoteContext): Promise<void> {
    const nodes = await ctx.client.request<NodeView[]>('GET', '/ams/1.0/nodes');
    printResult(ctx, nodes, () => {
      if (nodes.length === 0) return terminal.out('No nodes.');
      printTable(nodes, [
        { header: 'NAME', value: (n) => n.name },
        { header: 'ADDRESS', value: (n) => n.address },
        { header: 'STATUS', value: (n) => (n.unschedulable && n.status !== 'draining' ? `${n.status} (unschedulable)` : n.status) },
        { header: 'CPUS', value: (n) => usage(n.allocated_cpus ?? 0, round(n.cpus * (n.cpu_allocation_rate || 1))), align: 'right' },
        {
          header: 'MEMORY',
          value: (n) => usage(formatBytes(n.allocated_memory ?? 0), formatBytes(Math.floor(n.memory * (n.memory_allocation_rate || 1)))),
          align: 'right',
        },
        { header: 'INSTANCES', value: (n) => n.instances, align: 'right' },
        { header: 'LAST SEEN', value: (n) => formatTime(n.last_seen) },
      ]);
    });
  }
}

@Command({ name: 'node', description: 'Inspect the nodes that run instances', subCommands: [NodeListCommand] })
export class NodeCommand extends VerbCommand {}

export const NODE_COMMANDS = [NodeCommand, NodeListCommand];

const round = (n: number) => Math.round(n * 100) / 100;
