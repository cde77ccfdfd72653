import { NavLink, useParams } from 'react-router';
import type { Session } from '../App.tsx';
import { Empty } from '../ui.tsx';
import { CannedAdmin } from './CannedAdmin.tsx';
import { WidgetAdmin } from './WidgetAdmin.tsx';

const TABS = [
  ['widgets', 'Website widgets'],
  ['canned-responses', 'Canned responses'],
] as const;

/** Support set-up for owners and admins, one URL per view: /support-setup/widgets, /support-setup/canned-responses. */
export function SupportSetup({ session }: { session: Session }) {
  const { tab } = useParams();
  return (
    <main className="admin support-setup">
      <nav aria-label="Support set-up" className="subnav">
        {TABS.map(([id, label]) => (
          <NavLink key={id} to={`/support-setup/${id}`} className="tab">
            {label}
          </NavLink>
        ))}
      </nav>
      {tab === 'widgets' ? (
        <WidgetAdmin session={session} />
      ) : tab === 'canned-responses' ? (
        <CannedAdmin session={session} />
      ) : (
        <Empty>There is no support set-up view “{tab}”.</Empty>
      )}
    </main>
  );
}
