// Builds hpo_framework/results/plotly-hpo.min.js: `npm ci && npm run build` here.
// The options are plotly.js 4.1.1's own (its esbuild-config.js), with our entry point.
'use strict';
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const version = require('plotly.js/package.json').version;

esbuild.build({
    entryPoints: ['./index.js'],
    outfile: '../../hpo_framework/results/plotly-hpo.min.js',
    format: 'iife', globalName: 'Plotly', bundle: true, minify: true, sourcemap: false,
    plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    banner: { js: `/**\n* plotly.js v${version}, a partial bundle: scatter, bar, heatmap, contour, ` +
                  'parcoords, scatter3d\n* Copyright 2012-2026, Plotly, Inc.\n* All rights reserved.\n' +
                  '* Licensed under the MIT license\n*/' },
    logLevel: 'info',
}).catch(() => process.exit(1));
