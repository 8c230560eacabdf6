/**
 * Types for ./cytoscape.js, which src/api/dashboard.ts serves from the cytoscape
 * package's ES module build (dist/cytoscape.esm.min.mjs).
 */
import cytoscape from 'cytoscape'
export default cytoscape
