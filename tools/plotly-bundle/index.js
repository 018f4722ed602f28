'use strict';
// The trace types hpo_framework/results/interactive.py and the dashboard's pages draw
// (scatter is in plotly.js's core). A figure of another type would be drawn as a scatter:
// tests/test_dashboard_bundle.py checks in Chromium that every drawn trace kept its type.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/contour'),
    require('plotly.js/lib/parcoords'),
    require('plotly.js/lib/scatter3d'),
]);

module.exports = Plotly;
