// Package mapping compiles DMS table-mapping documents (selection,
// transformation, object-mapping and table-settings rules) into a Mapper that
// turns source events into target records with their Kinesis partition keys.
//
// Compile does all the work once: patterns are matched against the table
// definition, names resolved, add-column expressions parsed into closures
// with column indexes bound, filters typed. Map then only finds the event's
// table plan, applies its filters and, when rules change the columns, builds
// the new row; otherwise Record.Values aliases the event's values. A
// Session (Mapper.NewSession) maps the same way for one goroutine, taking
// rendered partition keys from an append-only arena instead of allocating
// a string per row; the runner maps through one.
//
// Semantics beyond what DMS documents (dms-behaviour.md §2.3, §3):
//
//   - Names in object locators and filters are case-sensitive. A name that
//     exists only with other case is reported with a hint.
//   - One action per object: each object has slots (its name; whether a
//     column is kept; a column's type; a table's primary key, before-image
//     columns, object mapping) and the lowest rule-id that matches fills a
//     slot. A rule that loses every object it matches is reported, not
//     ignored. add-column rules all apply.
//   - Several include rules matching one table AND their filters; the table
//     takes the highest load-order among them. Filters need an exact table
//     name. NULL satisfies only the null operator.
//   - Target columns are the kept source columns in source order, then
//     add-column columns (rule-id order), then before-image columns, then
//     object-mapping attributes. exclude-columns matches target or source
//     names case-insensitively.
//   - Attribute templates ${column} name source columns (source or target
//     name, exact first). Scalar attributes are STRING columns. Document
//     attributes (attribute-sub-type json) are STRING columns whose value is
//     JSON text, listed in TargetTable.JSONColumns; a string that is exactly
//     "${column}" becomes null for NULL, object keys are sorted.
//   - Partition keys: composite keys join the key columns' canonical text
//     (tabledefs.AppendText) with '.' in key order (define-primary-key order,
//     else column order); a NULL part is empty. A key that would be empty
//     falls back to schema.table, as does transaction-id during full load.
//     Keys of more than 256 characters become their first 200 characters,
//     '#', and 32 hex digits of the SHA-256 of the whole key: deterministic,
//     so one key's changes stay on one shard, in order.
//   - table-settings and post-processing rules are validated and otherwise
//     ignored; data-masking actions and tablespace targets are reported as
//     not supported.
package mapping
