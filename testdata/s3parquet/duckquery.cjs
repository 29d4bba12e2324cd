// duckquery.cjs runs SQL statements with DuckDB (npm @duckdb/node-api) and
// prints the rows of the last one as JSON: an independent Parquet reader
// for the s3parquet tests.
//
// usage: DUCKDB_NODE_MODULES=…/node_modules node duckquery.cjs 'SQL' ['SQL'…]
const path = require('path');
const modules = process.env.DUCKDB_NODE_MODULES;
if (!modules) {
  console.error('DUCKDB_NODE_MODULES is not set');
  process.exit(2);
}
const { DuckDBInstance } = require(path.join(modules, '@duckdb', 'node-api'));

async function main() {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  let reader;
  for (const sql of process.argv.slice(2)) {
    reader = await conn.runAndReadAll(sql);
  }
  process.stdout.write(JSON.stringify(reader ? reader.getRowsJson() : []) + '\n');
}

main().catch((err) => {
  console.error(err && err.message ? err.message : err);
  process.exit(1);
});
