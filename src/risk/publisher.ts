import type { EventBus, EventMap, EventName } from '../core/events.js';
import { sequentialIds } from '../core/ids.js';

/** Where the risk engine sends its events (`breaker.*`, `killswitch.*`); `time` is engine time. */
export type RiskPublisher = <N extends EventName>(name: N, payload: EventMap[N], time: number) => void;

/** A publisher that does nothing (events still land in the engine's own records). */
export const NO_PUBLISH: RiskPublisher = () => {};

/** Adapts an EventBus to a RiskPublisher: events get source `risk` and a deterministic correlation id. */
export function busPublisher(bus: EventBus): RiskPublisher {
  const nextId = sequentialIds('risk');
  return (name, payload, time) => {
    bus.publish({ name, time, correlationId: nextId(), source: 'risk', payload });
  };
}
