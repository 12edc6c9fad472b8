export interface Digest {
  generatedAt: string;
  bySeverity: Record<string, number>;
  slowestScans: unknown[];
}

export function buildDigest(issues: Array<{ severity: string }>, slowestScans: unknown[]): Digest {
  const bySeverity: Record<string, number> = {};
  for (const issue of issues) {
    bySeverity[issue.severity] = (bySeverity[issue.severity] ?? 0) + 1;
  }
  return { generatedAt: new Date().toISOString(), bySeverity, slowestScans };
}
