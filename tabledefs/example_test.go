package tabledefs_test

import (
	"errors"
	"fmt"

	"github.com/sluicedata/sluice/tabledefs"
)

func ExampleParse() {
	_, err := tabledefs.Parse("defs.json", []byte(`{
  "TableCount": "1",
  "Tables": [{
    "TableName": "employee", "TablePath": "hr/employee/", "TableOwner": "hr",
    "TableColumns": [
      {"ColumnName": "Id", "ColumnType": "INTEGER", "ColumnIsPk": "true"},
      {"ColumnName": "Rate", "ColumnType": "NUMERIC", "ColumnPrecision": "40", "ColumnScale": "2"},
      {"ColumnName": "Name", "ColumnType": "STRING", "ColumnLenght": "20"}
    ]
  }]
}`))
	var ps tabledefs.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Println(p)
		}
	}
	// Output:
	// defs.json:$.Tables[0].TableColumns[0].ColumnType: unknown column type "INTEGER" (did you mean "INT4"?)
	// defs.json:$.Tables[0].TableColumns[1].ColumnPrecision: must be between 1 and 38, not 40
	// defs.json:$.Tables[0].TableColumns[2].ColumnLenght: unknown key (did you mean "ColumnLength"?)
	// defs.json:$.Tables[0].TableColumns[2].ColumnLength: is required for STRING
}

func ExampleColumn_ParseValue() {
	rate := &tabledefs.Column{Name: "Rate", Type: tabledefs.TypeNumeric, Precision: 5, Scale: 2}
	hired := &tabledefs.Column{Name: "Hired", Type: tabledefs.TypeDateTime, Scale: 3, DateFormat: "MM/dd/YYYY HH:mm:ss.F"}
	for _, in := range []string{"+7.5", "12.345", "1234"} {
		v, err := rate.ParseValue(in)
		if err != nil {
			var ve *tabledefs.ValueError
			errors.As(err, &ve)
			fmt.Printf("error (truncation %v): %v\n", ve.Truncation, err)
			continue
		}
		fmt.Println(string(tabledefs.AppendText(nil, v, rate)))
	}
	v, _ := hired.ParseValue("02/29/2024 13:45:00.123456")
	fmt.Println(string(tabledefs.AppendText(nil, v, hired)))
	fmt.Println(string(tabledefs.AppendTimestampISO(nil, v, hired.Scale)))
	// Output:
	// 7.50
	// error (truncation true): "12.345" would be truncated as NUMERIC: more than 2 fraction digits
	// error (truncation false): "1234" is not a valid NUMERIC: 4 integer digits exceed the 3 of NUMERIC(5,2)
	// 2024-02-29 13:45:00.123
	// 2024-02-29T13:45:00.123Z
}
