package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// PartitionKeyType values, as DMS writes them in "partition-key-type".
const (
	KeyPrimaryKey    = "primary-key"
	KeySchemaTable   = "schema-table"
	KeyAttributeName = "attribute-name"
	KeyConstant      = "constant"
	KeyTransactionID = "transaction-id"
	KeyTaskID        = "task-id"
)

// MaxKeyLen is the Kinesis partition-key limit in Unicode characters.
const MaxKeyLen = 256

// longKeyPrefix is how many characters of an over-long key are kept.
const longKeyPrefix = 200

type keyKind uint8

const (
	kConst keyKind = iota // fixed string: schema.table or a constant
	kCols                 // column values joined with '.'
	kTx                   // transaction id
)

// keyPlan says how to build one table's partition key.
type keyPlan struct {
	kind     keyKind
	typ      string
	constant string   // kConst
	prefix   string   // kCols: "schema.table." with PartitionIncludeSchemaTable
	cols     []keyCol // kCols
	fallback string   // schema.table, used when the key would be empty
}

// keyCol is one column of a key: a value of the mapped record, or of the
// source row when the column is not part of the record.
type keyCol struct {
	fromSrc bool
	idx     int
	col     *tabledefs.Column
}

func (c *compiler) buildKeys(p *plan, ts *tableState, pk []int, srcPos []int) {
	schemaTable := ts.schema + "." + ts.name
	if c.opts.TaskID != "" {
		p.ctlKey = limitKey(c.opts.TaskID + "." + schemaTable)
	} else {
		p.ctlKey = limitKey(schemaTable)
	}
	st := keyPlan{kind: kConst, typ: KeySchemaTable, constant: limitKey(schemaTable), fallback: limitKey(schemaTable)}
	pkPlan := st
	if len(pk) > 0 {
		pkPlan = keyPlan{kind: kCols, typ: KeyPrimaryKey, fallback: st.fallback}
		if c.opts.PartitionIncludeSchemaTable {
			pkPlan.prefix = schemaTable + "."
		}
		for _, i := range pk {
			pkPlan.cols = append(pkPlan.cols, sourceKeyCol(p, ts, i, srcPos))
		}
	}
	p.loadKey, p.cdcKey = pkPlan, st
	if c.opts.ParallelApply {
		p.cdcKey = pkPlan
	}
	om := ts.omPlan
	if om == nil || om.rule.om.keyType == "" {
		return
	}
	spec := om.rule.om
	var k keyPlan
	switch spec.keyType {
	case "primary-key":
		k = pkPlan
	case "schema-table":
		k = st
	case "constant":
		k = keyPlan{kind: kConst, typ: KeyConstant, constant: limitKey(spec.keyValue), fallback: st.fallback}
	case "transaction-id":
		k = keyPlan{kind: kTx, typ: KeyTransactionID, fallback: st.fallback}
	case "attribute-name":
		kc, ok := attributeKeyCol(p, ts, spec.keyName, srcPos)
		if !ok {
			c.problem(om.rule.path+".mapping-parameters.partition-key-name", om.rule, "attribute %q does not exist in %s.%s", spec.keyName, ts.src.Owner, ts.src.Name)
			return
		}
		k = keyPlan{kind: kCols, typ: KeyAttributeName, cols: []keyCol{kc}, fallback: st.fallback}
	}
	p.loadKey, p.cdcKey = k, k
}

func sourceKeyCol(p *plan, ts *tableState, i int, srcPos []int) keyCol {
	if j := srcPos[i]; j >= 0 {
		return keyCol{idx: j, col: &p.tt.Columns[j]}
	}
	return keyCol{fromSrc: true, idx: i, col: &ts.src.Columns[i]}
}

// attributeKeyCol resolves partition-key-name: a column of the mapped
// record (attribute mappings included) first, then any source column.
func attributeKeyCol(p *plan, ts *tableState, name string, srcPos []int) (keyCol, bool) {
	cols := p.tt.Columns
	for pass := 0; pass < 2; pass++ {
		for j := range cols {
			if cols[j].Name == name || pass == 1 && strings.EqualFold(cols[j].Name, name) {
				return keyCol{idx: j, col: &cols[j]}, true
			}
		}
	}
	if i := ts.columnByName(name); i >= 0 {
		return sourceKeyCol(p, ts, i, srcPos), true
	}
	return keyCol{}, false
}

// key returns the partition key of a data record.
func (k *keyPlan) key(ev *source.Event, vals []tabledefs.Value) string {
	switch k.kind {
	case kConst:
		return k.constant
	case kTx:
		if ev.TxID == "" {
			return k.fallback
		}
		return limitKey(ev.TxID)
	}
	if len(k.cols) == 1 && k.prefix == "" {
		// A single text column is its own key: no copy.
		kc := &k.cols[0]
		v := pick(kc, ev, vals)
		if v.Kind == tabledefs.KindString {
			if v.Str == "" {
				return k.fallback
			}
			return limitKey(v.Str)
		}
	}
	var arr [128]byte
	b := append(arr[:0], k.prefix...)
	for i := range k.cols {
		if i > 0 {
			b = append(b, '.')
		}
		kc := &k.cols[i]
		b = tabledefs.AppendText(b, pick(kc, ev, vals), kc.col)
	}
	if len(b) == 0 {
		return k.fallback
	}
	if len(b) > MaxKeyLen && utf8.RuneCount(b) > MaxKeyLen {
		return hashKey(string(b))
	}
	return string(b)
}

func pick(kc *keyCol, ev *source.Event, vals []tabledefs.Value) tabledefs.Value {
	if kc.fromSrc {
		return ev.Values[kc.idx]
	}
	return vals[kc.idx]
}

// limitKey keeps keys within the Kinesis limit of 256 characters. A longer
// key becomes its first 200 characters, '#', and the hex SHA-256 of the
// whole key (first 16 bytes): deterministic, so every change of one key
// still lands on one shard in order, and distinct keys stay distinct.
func limitKey(s string) string {
	if len(s) <= MaxKeyLen || utf8.RuneCountInString(s) <= MaxKeyLen {
		return s
	}
	return hashKey(s)
}

func hashKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	n, cut := 0, 0
	for cut < len(s) && n < longKeyPrefix {
		_, w := utf8.DecodeRuneInString(s[cut:])
		cut += w
		n++
	}
	return s[:cut] + "#" + hex.EncodeToString(sum[:16])
}
