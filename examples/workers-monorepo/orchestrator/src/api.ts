export interface OpsIssue {
  id: number;
  title: string;
  severity: 'critical' | 'high' | 'medium' | 'low';
  occurrences: number;
}

export async function fetchOpenIssues(): Promise<OpsIssue[]> {
  const response = await fetch('/api/ops/issues?status=open');
  if (!response.ok) {
    throw new Error(`GET /api/ops/issues answered ${response.status}`);
  }
  const body = (await response.json()) as { issues: OpsIssue[] };
  return body.issues;
}
