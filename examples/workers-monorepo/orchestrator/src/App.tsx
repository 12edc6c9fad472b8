import { useEffect, useState } from 'react';
import { fetchOpenIssues, type OpsIssue } from '@/api';

export function App() {
  const [issues, setIssues] = useState<OpsIssue[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    fetchOpenIssues().then(setIssues, (reason: unknown) => setError(String(reason)));
  }, []);

  if (error) {
    return <p role="alert">Could not load issues: {error}</p>;
  }
  return (
    <main>
      <h1>Open ops issues ({issues.length})</h1>
      <ul>
        {issues.map((issue) => (
          <li key={issue.id}>
            <strong>{issue.severity}</strong> {issue.title} <small>seen {issue.occurrences}×</small>
          </li>
        ))}
      </ul>
    </main>
  );
}
