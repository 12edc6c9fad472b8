// Bundles the dashboard that the orchestrator serves from /ops.
import { defineConfig } from 'rollup';
import resolve from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import typescript from '@rollup/plugin-typescript';

export default defineConfig({
  input: 'src/main.tsx',
  output: { dir: 'dist/ops', format: 'es', sourcemap: true },
  plugins: [resolve({ browser: true }), commonjs(), typescript({ tsconfig: './tsconfig.app.json' })],
});
