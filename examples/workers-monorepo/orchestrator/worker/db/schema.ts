import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const operationLogs = sqliteTable('operation_logs', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  timestamp: integer('timestamp', { mode: 'timestamp_ms' }).notNull(),
  source: text('source').notNull(),
  level: text('level').notNull(),
  message: text('message').notNull(),
});

export const opsScans = sqliteTable('ops_scans', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  scope: text('scope').notNull(),
  status: text('status').notNull().default('running'),
  logsProcessed: integer('logs_processed').notNull().default(0),
  startedAt: integer('started_at', { mode: 'timestamp_ms' }).notNull(),
});

export const opsIssues = sqliteTable('ops_issues', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  fingerprint: text('fingerprint').notNull().unique(),
  title: text('title').notNull(),
  severity: text('severity').notNull(),
  status: text('status').notNull().default('open'),
  occurrences: integer('occurrences').notNull().default(1),
});
