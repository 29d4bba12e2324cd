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

// key returns the partition key of a data record. A key that has to be
// rendered is carved from a when it is not nil, else allocated.
func (k *keyPlan) key(ev *source.Event, vals []tabledefs.Value, a *keyArena) string {
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
		// A single text column is its own key: no copy. A single integer
		// column is written straight into a Session's arena.
		kc := &k.cols[0]
		v := pick(kc, ev, vals)
		switch {
		case v.Kind == tabledefs.KindString:
			if v.Str == "" {
				return k.fallback
			}
			return limitKey(v.Str)
		case v.Kind == tabledefs.KindInt && a != nil:
			return a.intKey(v.Int)
		}
	}
	if a != nil {
		b := k.render(a.scratch(keyScratch), ev, vals)
		if s, ok := k.special(b); ok {
			return s
		}
		return a.commit(b)
	}
	var arr [keyScratch]byte
	b := k.render(arr[:0], ev, vals)
	if s, ok := k.special(b); ok {
		return s
	}
	return string(b)
}

// keyScratch is the room reserved for rendering one key: most keys fit.
const keyScratch = 128

// render appends the key's prefix and column values, joined with '.'.
func (k *keyPlan) render(b []byte, ev *source.Event, vals []tabledefs.Value) []byte {
	if k.prefix != "" {
		b = append(b, k.prefix...)
	}
	for i := range k.cols {
		if i > 0 {
			b = append(b, '.')
		}
		kc := &k.cols[i]
		v := pick(kc, ev, vals)
		if v.Kind == tabledefs.KindInt { // the common key type, cheaper than AppendText's switch
			b = appendInt(b, v.Int)
			continue
		}
		b = tabledefs.AppendText(b, v, kc.col)
	}
	return b
}

// digitPairs holds "00" to "99" for appendInt.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendInt is strconv.AppendInt(b, x, 10), two digits per division.
func appendInt(b []byte, x int64) []byte {
	var tmp [20]byte
	u := uint64(x)
	if x < 0 {
		u = -u
	}
	i := len(tmp)
	for u >= 100 {
		r := u % 100
		u /= 100
		i -= 2
		tmp[i], tmp[i+1] = digitPairs[2*r], digitPairs[2*r+1]
	}
	if u >= 10 {
		i -= 2
		tmp[i], tmp[i+1] = digitPairs[2*u], digitPairs[2*u+1]
	} else {
		i--
		tmp[i] = byte('0' + u)
	}
	if x < 0 {
		i--
		tmp[i] = '-'
	}
	return append(b, tmp[i:]...)
}

// special returns the key that replaces a rendered key which is empty (the
// fallback) or too long (hashed).
func (k *keyPlan) special(b []byte) (string, bool) {
	if len(b) == 0 {
		return k.fallback, true
	}
	if len(b) > MaxKeyLen && utf8.RuneCount(b) > MaxKeyLen {
		return hashKey(string(b)), true
	}
	return "", false
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
