package task

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // DatePartitionTimezone is checked on machines without a zoneinfo database

	"github.com/sluicedata/sluice/tabledefs"
)

// endpointCommon reads the keys every endpoint object may have.
func (l *configLoader) endpointCommon(o *tabledefs.Object, wantType string) (engine, endpointURL string) {
	engine, _ = o.String("EngineName", true)
	if u, ok := o.String("EndpointUrl", false); ok {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			l.p.Add(o.File, o.KeyPath("EndpointUrl"), "must be an http:// or https:// URL, not %q", u)
		} else {
			endpointURL = u
		}
	}
	var et string
	if readEnum(o, "EndpointType", &et, "source", "target") && et != wantType {
		l.p.Add(o.File, o.KeyPath("EndpointType"), "is %q but this is a %s endpoint", et, wantType)
	}
	o.Has("EndpointIdentifier") // DMS bookkeeping, accepted
	refuse(o, "ExtraConnectionAttributes", "is not supported: give the settings object instead (e.g. S3Settings)")
	return engine, endpointURL
}

// notFor reports settings objects that do not belong to the endpoint's engine.
func notFor(o *tabledefs.Object, engine string, keys ...string) {
	for _, k := range keys {
		if o.Has(k) {
			o.P.Add(o.File, o.KeyPath(k), "does not apply to EngineName %q", engine)
		}
	}
}

func (l *configLoader) sourceEndpoint(o *tabledefs.Object) SourceEndpoint {
	engine, eu := l.endpointCommon(o, "source")
	ep := SourceEndpoint{EngineName: engine, EndpointUrl: eu}
	switch engine {
	case EngineS3:
		if s, ok := o.Object("S3Settings", true); ok {
			ep.S3Settings = l.s3Source(s, o)
		}
		notFor(o, engine, "PostgreSQLSettings", "ServerName", "Port", "DatabaseName", "Username", "ConnectionString")
	case EnginePostgres, "aurora-postgresql":
		ep.EngineName = EnginePostgres
		ep.Postgres = l.postgres(o)
		if eu != "" {
			l.p.Add(o.File, o.KeyPath("EndpointUrl"), "does not apply to EngineName %q", engine)
		}
		notFor(o, engine, "S3Settings", "ExternalTableDefinition")
	case "":
	default:
		checkEnum(l.p, o.File, o.KeyPath("EngineName"), engine, []string{EngineS3, EnginePostgres})
	}
	o.Unknown("S3Settings", "PostgreSQLSettings", "ServerName", "Port", "DatabaseName", "Username",
		"ConnectionString", "Password", "ExternalTableDefinition")
	return ep
}

// s3Source reads the S3Settings o of the source endpoint ep. The table
// definition may also sit at the endpoint's top level, as CreateEndpoint
// allows.
func (l *configLoader) s3Source(o, ep *tabledefs.Object) *S3SourceSettings {
	s := &S3SourceSettings{CsvDelimiter: ",", CsvRowDelimiter: "\n", Rfc4180: true, DataFormat: "csv",
		CdcPollInterval: 5, LateCdcFilePolicy: LateCdcFileSkip}
	if b, ok := o.String("BucketName", true); ok {
		s.BucketName = l.bucket(o, "BucketName", b)
	}
	readString(o, "BucketFolder", &s.BucketFolder)
	readString(o, "CdcPath", &s.CdcPath)
	l.csvFormat(o, &s.CsvDelimiter, &s.CsvRowDelimiter, &s.Rfc4180, &s.CsvNullValue)
	readInt(o, "IgnoreHeaderRows", &s.IgnoreHeaderRows, 0, 1)
	if readEnum(o, "DataFormat", &s.DataFormat, "csv", "parquet") && s.DataFormat == "parquet" {
		l.p.Add(o.File, o.KeyPath("DataFormat"), "parquet source files are not supported yet; use csv")
	}
	readString(o, "ExpectedBucketOwner", &s.ExpectedBucketOwner)
	readString(o, "ServiceAccessRoleArn", &s.ServiceAccessRoleArn)
	readInt(o, "CdcPollInterval", &s.CdcPollInterval, 1, 86400)
	readEnum(o, "LateCdcFilePolicy", &s.LateCdcFilePolicy, LateCdcFileSkip, LateCdcFileStop)
	defObj := o
	if ep.M["ExternalTableDefinition"] != nil {
		if o.M["ExternalTableDefinition"] != nil {
			l.p.Add(o.File, o.KeyPath("ExternalTableDefinition"), "conflicts with SourceEndpoint.ExternalTableDefinition: give one of them")
		}
		defObj = ep
		o.Has("ExternalTableDefinition")
	}
	if d, ok := l.document(defObj, "ExternalTableDefinition", s.DataFormat == "csv"); ok {
		s.ExternalTableDefinitionFile = d.File
		def, err := tabledefs.Parse(d.File, d.Data)
		if err != nil {
			l.addErr(d.Relocate(err))
		} else {
			s.ExternalTableDefinition = def
		}
	}
	o.Unknown()
	return s
}

// bucket checks a BucketName: an S3 bucket, or ✚ file://dir made absolute.
func (l *configLoader) bucket(o *tabledefs.Object, key, b string) string {
	if dir, ok := strings.CutPrefix(b, "file://"); ok {
		if dir == "" {
			l.p.Add(o.File, o.KeyPath(key), "file:// bucket without a directory")
			return ""
		}
		return "file://" + l.abs(dir)
	}
	if msg := checkBucketName(b); msg != "" {
		hint := ""
		if strings.Contains(b, "/") {
			hint = " (put the prefix in BucketFolder)"
		}
		l.p.Add(o.File, o.KeyPath(key), "%s%s", msg, hint)
		return ""
	}
	return b
}

// csvFormat reads the CSV keys shared by the S3 source and the S3 target.
func (l *configLoader) csvFormat(o *tabledefs.Object, delim, rowDelim *string, rfc *bool, null **string) {
	if readString(o, "CsvDelimiter", delim) && len([]rune(*delim)) != 1 {
		l.p.Add(o.File, o.KeyPath("CsvDelimiter"), "must be exactly one character, not %q", *delim)
	}
	if readString(o, "CsvRowDelimiter", rowDelim) {
		if *rowDelim != "\n" && *rowDelim != "\r\n" && len([]rune(*rowDelim)) != 1 {
			l.p.Add(o.File, o.KeyPath("CsvRowDelimiter"), "must be one character or \"\\r\\n\", not %q", *rowDelim)
		}
	}
	readBool(o, "Rfc4180", rfc)
	var nv string
	if readString(o, "CsvNullValue", &nv) {
		*null = &nv
	}
	if *delim != "" && strings.Contains(*rowDelim, *delim) {
		l.p.Add(o.File, o.KeyPath("CsvDelimiter"), "must differ from CsvRowDelimiter")
	}
	if *rfc && *delim == `"` {
		l.p.Add(o.File, o.KeyPath("CsvDelimiter"), `cannot be '"' while Rfc4180 quoting is on`)
	}
}

var slotNameRE = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

func (l *configLoader) postgres(o *tabledefs.Object) *PostgresEndpoint {
	pg := &PostgresEndpoint{Port: 5432, Settings: PostgreSQLSettings{
		PluginName: "pgoutput", HeartbeatFrequency: 5, HeartbeatSchema: "public", CaptureDdls: true,
		DdlArtifactsSchema: "public", ExecuteTimeout: 60, MapLongVarcharAs: "wstring", TrimSpaceInChar: true,
	}}
	given := false // any of the DMS connection keys
	conn := func(o *tabledefs.Object) {
		for _, k := range []string{"ServerName", "DatabaseName", "Username"} {
			given = given || o.M[k] != nil
		}
		readString(o, "ServerName", &pg.ServerName)
		readInt(o, "Port", &pg.Port, 1, 65535)
		readString(o, "DatabaseName", &pg.DatabaseName)
		readString(o, "Username", &pg.Username)
		refuse(o, "Password", "is not read from the task file (it would end up in logs and state): set PGPASSWORD or put it in ConnectionString")
	}
	conn(o)
	readString(o, "ConnectionString", &pg.ConnectionString)
	if so, ok := o.Object("PostgreSQLSettings", false); ok {
		conn(so) // DMS accepts the connection keys inside PostgreSQLSettings too
		l.postgresSettings(so, &pg.Settings)
	}
	switch {
	case o.M["ConnectionString"] != nil && given:
		l.p.Add(o.File, o.KeyPath("ConnectionString"), "conflicts with ServerName/DatabaseName/Username: give one or the other")
	case o.M["ConnectionString"] == nil && !given:
		l.p.Add(o.File, o.KeyPath("ServerName"), "is required, with DatabaseName (or give the sluice extension ConnectionString)")
	}
	return pg
}

func (l *configLoader) postgresSettings(o *tabledefs.Object, s *PostgreSQLSettings) {
	if readString(o, "SlotName", &s.SlotName) && !slotNameRE.MatchString(s.SlotName) {
		l.p.Add(o.File, o.KeyPath("SlotName"), "must be 1 to 63 lowercase letters, digits or underscores, not %q", s.SlotName)
	}
	if pn, ok := o.String("PluginName", false); ok {
		switch pn {
		case "pgoutput", "no-preference":
		case "test-decoding", "test_decoding", "pglogical":
			l.p.Add(o.File, o.KeyPath("PluginName"), "sluice decodes \"pgoutput\" only, not %q", pn)
		default:
			checkEnum(l.p, o.File, o.KeyPath("PluginName"), pn, []string{"pgoutput", "no-preference"})
		}
	}
	readBool(o, "HeartbeatEnable", &s.HeartbeatEnable)
	readInt(o, "HeartbeatFrequency", &s.HeartbeatFrequency, 1, 1440)
	readString(o, "HeartbeatSchema", &s.HeartbeatSchema)
	readBool(o, "CaptureDdls", &s.CaptureDdls)
	readString(o, "DdlArtifactsSchema", &s.DdlArtifactsSchema)
	readInt(o, "ExecuteTimeout", &s.ExecuteTimeout, 1, settingsMaxInt)
	if readString(o, "PublicationName", &s.PublicationName) && !slotNameRE.MatchString(s.PublicationName) {
		l.p.Add(o.File, o.KeyPath("PublicationName"), "must be 1 to 63 lowercase letters, digits or underscores, not %q", s.PublicationName)
	}
	readBool(o, "FailTasksOnLobTruncation", &s.FailTasksOnLobTruncation)
	readBool(o, "MapBooleanAsBoolean", &s.MapBooleanAsBoolean)
	readBool(o, "MapJsonbAsClob", &s.MapJsonbAsClob)
	readEnum(o, "MapLongVarcharAs", &s.MapLongVarcharAs, "wstring", "clob", "nclob")
	readBool(o, "MapUnboundedNumericAsString", &s.MapUnboundedNumericAsString)
	readBool(o, "ConsumeMonotonicEvents", &s.ConsumeMonotonicEvents)
	readBool(o, "TrimSpaceInChar", &s.TrimSpaceInChar)
	readString(o, "AfterConnectScript", &s.AfterConnectScript)
	// Accepted DMS keys that do not change what sluice does.
	o.Unknown("DisableUnicodeSourceFilter", "MaxFileSize", "SecretsManagerAccessRoleArn",
		"SecretsManagerSecretId", "DatabaseMode", "BabelfishDatabaseName")
}

func (l *configLoader) targetEndpoint(o *tabledefs.Object) TargetEndpoint {
	engine, eu := l.endpointCommon(o, "target")
	ep := TargetEndpoint{EngineName: engine, EndpointUrl: eu}
	switch engine {
	case EngineKinesis:
		if k, ok := o.Object("KinesisSettings", true); ok {
			ep.KinesisSettings = l.kinesis(k, true)
		}
		notFor(o, engine, "S3Settings", "FileSettings")
	case EngineS3:
		if s, ok := o.Object("S3Settings", true); ok {
			ep.S3Settings = l.s3Target(s)
		}
		notFor(o, engine, "KinesisSettings", "FileSettings")
	case EngineFile:
		if f, ok := o.Object("FileSettings", true); ok {
			fset := &FileSettings{}
			if p, ok := f.String("Path", true); ok {
				if p == "" {
					l.p.Add(f.File, f.KeyPath("Path"), "must not be empty")
				} else {
					fset.Path = l.abs(p)
				}
			}
			f.Unknown()
			ep.FileSettings = fset
		}
		if k, ok := o.Object("KinesisSettings", false); ok {
			ep.KinesisSettings = l.kinesis(k, false)
		} else {
			ep.KinesisSettings = &KinesisSettings{MessageFormat: MessageJSON}
		}
		if eu != "" {
			l.p.Add(o.File, o.KeyPath("EndpointUrl"), "does not apply to EngineName %q", engine)
		}
		notFor(o, engine, "S3Settings")
	case "":
	default:
		checkEnum(l.p, o.File, o.KeyPath("EngineName"), engine, []string{EngineKinesis, EngineS3, EngineFile})
	}
	o.Unknown("KinesisSettings", "S3Settings", "FileSettings")
	return ep
}

var (
	streamArnRE  = regexp.MustCompile(`^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/([a-zA-Z0-9_.-]{1,128})$`)
	streamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)
)

// kinesis reads KinesisSettings; stream=false is the file target, which
// takes the message options only.
func (l *configLoader) kinesis(o *tabledefs.Object, stream bool) *KinesisSettings {
	k := &KinesisSettings{MessageFormat: MessageJSON}
	if stream {
		arn, hasArn := o.String("StreamArn", false)
		name, hasName := o.String("StreamName", false)
		switch {
		case hasArn && hasName:
			l.p.Add(o.File, o.KeyPath("StreamName"), "conflicts with StreamArn: give one of them")
		case hasArn:
			if !streamArnRE.MatchString(arn) {
				l.p.Add(o.File, o.KeyPath("StreamArn"), "must look like arn:aws:kinesis:REGION:ACCOUNT:stream/NAME, not %q", arn)
			} else {
				k.StreamArn = arn
			}
		case hasName:
			if !streamNameRE.MatchString(name) {
				l.p.Add(o.File, o.KeyPath("StreamName"), "must be 1 to 128 letters, digits, '_', '.' or '-', not %q", name)
			} else {
				k.StreamName = name
			}
		case o.M["StreamArn"] == nil && o.M["StreamName"] == nil:
			l.p.Add(o.File, o.KeyPath("StreamArn"), "is required (or the sluice extension StreamName)")
		}
		readString(o, "ServiceAccessRoleArn", &k.ServiceAccessRoleArn)
		l.kinesisProducer(o, k)
	} else {
		notFor(o, EngineFile, "StreamArn", "StreamName", "ServiceAccessRoleArn",
			"MaxInFlightRequests", "MaxRecordsPerKeyPerRequest", "MaxBufferedMB")
	}
	readEnum(o, "MessageFormat", &k.MessageFormat, MessageJSON, MessageJSONUnformatted)
	readBool(o, "IncludeTransactionDetails", &k.IncludeTransactionDetails)
	readBool(o, "IncludePartitionValue", &k.IncludePartitionValue)
	readBool(o, "PartitionIncludeSchemaTable", &k.PartitionIncludeSchemaTable)
	readBool(o, "IncludeTableAlterOperations", &k.IncludeTableAlterOperations)
	readBool(o, "IncludeControlDetails", &k.IncludeControlDetails)
	readBool(o, "IncludeNullAndEmpty", &k.IncludeNullAndEmpty)
	readBool(o, "NoHexPrefix", &k.NoHexPrefix)
	readBool(o, "UseLargeIntegerValue", &k.UseLargeIntegerValue)
	o.Unknown()
	return k
}

// kinesisProducer reads the ✚ producer limits of a Kinesis target.
func (l *configLoader) kinesisProducer(o *tabledefs.Object, k *KinesisSettings) {
	k.MaxInFlightRequests = DefaultMaxInFlightRequests
	k.MaxRecordsPerKeyPerRequest = DefaultMaxRecordsPerKeyPerRequest
	k.MaxBufferedMB = DefaultMaxBufferedMB
	readInt(o, "MaxInFlightRequests", &k.MaxInFlightRequests, 1, 64)
	if n, ok := o.Int("MaxRecordsPerKeyPerRequest", false); ok {
		if n < 1 || n > 500 {
			l.p.Add(o.File, o.KeyPath("MaxRecordsPerKeyPerRequest"),
				"must be between 1 and 500, not %d (1, the default, keeps strict per-partition-key order; "+
					"more raises a hot key's throughput but a partial failure can then reorder records of that key)", n)
		} else {
			k.MaxRecordsPerKeyPerRequest = n
		}
	}
	readInt(o, "MaxBufferedMB", &k.MaxBufferedMB, 1, 4096)
}

func (l *configLoader) s3Target(o *tabledefs.Object) *S3TargetSettings {
	s := &S3TargetSettings{
		DataFormat: "csv", ParquetVersion: "parquet-1-0", EncodingType: "rle-dictionary",
		DictPageSizeLimit: 1024 * 1024, DataPageSize: 1024 * 1024, RowGroupLength: 10000,
		EnableStatistics: true, CompressionType: "none", MaxFileSize: 1048576,
		CdcMaxBatchInterval: 60, CdcMinFileSize: 32000,
		DatePartitionSequence: "YYYYMMDD", DatePartitionDelimiter: "SLASH", DatePartitionTimezone: "UTC",
		CsvDelimiter: ",", CsvRowDelimiter: "\n", Rfc4180: true,
		EncryptionMode: "SSE_S3", CannedAclForObjects: "NONE",
	}
	if b, ok := o.String("BucketName", true); ok {
		s.BucketName = l.bucket(o, "BucketName", b)
	}
	readString(o, "BucketFolder", &s.BucketFolder)
	readEnum(o, "DataFormat", &s.DataFormat, "csv", "parquet")
	// The user guide spells these two in upper case; the API in lower case.
	readAliasedEnum(o, "ParquetVersion", &s.ParquetVersion, map[string]string{
		"parquet-1-0": "parquet-1-0", "parquet-2-0": "parquet-2-0", "PARQUET_1_0": "parquet-1-0", "PARQUET_2_0": "parquet-2-0"})
	readAliasedEnum(o, "CompressionType", &s.CompressionType, map[string]string{
		"none": "none", "gzip": "gzip", "NONE": "none", "GZIP": "gzip"})
	readEnum(o, "EncodingType", &s.EncodingType, "rle-dictionary", "plain", "plain-dictionary")
	readInt(o, "DictPageSizeLimit", &s.DictPageSizeLimit, 1, settingsMaxInt)
	readInt(o, "DataPageSize", &s.DataPageSize, 1, settingsMaxInt)
	readInt(o, "RowGroupLength", &s.RowGroupLength, 1, 64*1024*1024)
	readBool(o, "EnableStatistics", &s.EnableStatistics)
	readBool(o, "ParquetTimestampInMillisecond", &s.ParquetTimestampInMillisecond)
	readInt(o, "MaxFileSize", &s.MaxFileSize, 1, 1048576)
	readInt(o, "CdcMaxBatchInterval", &s.CdcMaxBatchInterval, 1, settingsMaxInt)
	readInt(o, "CdcMinFileSize", &s.CdcMinFileSize, 1, settingsMaxInt)
	readString(o, "CdcPath", &s.CdcPath)
	readBool(o, "PreserveTransactions", &s.PreserveTransactions)
	readBool(o, "CdcInsertsOnly", &s.CdcInsertsOnly)
	readBool(o, "CdcInsertsAndUpdates", &s.CdcInsertsAndUpdates)
	readBool(o, "IncludeOpForFullLoad", &s.IncludeOpForFullLoad)
	readString(o, "TimestampColumnName", &s.TimestampColumnName)
	readBool(o, "UseTaskStartTimeForFullLoadTimestamp", &s.UseTaskStartTimeForFullLoadTimestamp)
	readBool(o, "AddColumnName", &s.AddColumnName)
	readBool(o, "DatePartitionEnabled", &s.DatePartitionEnabled)
	readEnum(o, "DatePartitionSequence", &s.DatePartitionSequence, "YYYYMMDD", "YYYYMMDDHH", "YYYYMM", "MMYYYYDD", "DDMMYYYY")
	readEnum(o, "DatePartitionDelimiter", &s.DatePartitionDelimiter, "SLASH", "DASH", "UNDERSCORE", "NONE")
	if readString(o, "DatePartitionTimezone", &s.DatePartitionTimezone) {
		if _, err := time.LoadLocation(s.DatePartitionTimezone); err != nil || s.DatePartitionTimezone == "" || s.DatePartitionTimezone == "Local" {
			l.p.Add(o.File, o.KeyPath("DatePartitionTimezone"), "must be an IANA time zone such as \"UTC\" or \"Europe/Paris\", not %q", s.DatePartitionTimezone)
		}
	}
	l.csvFormat(o, &s.CsvDelimiter, &s.CsvRowDelimiter, &s.Rfc4180, &s.CsvNullValue)
	readBool(o, "UseCsvNoSupValue", &s.UseCsvNoSupValue)
	readString(o, "CsvNoSupValue", &s.CsvNoSupValue)
	readBool(o, "AddTrailingPaddingCharacter", &s.AddTrailingPaddingCharacter)
	readEnum(o, "EncryptionMode", &s.EncryptionMode, "SSE_S3", "SSE_KMS")
	readString(o, "ServerSideEncryptionKmsKeyId", &s.ServerSideEncryptionKmsKeyId)
	readEnum(o, "CannedAclForObjects", &s.CannedAclForObjects, "NONE", "PRIVATE", "PUBLIC_READ",
		"PUBLIC_READ_WRITE", "AUTHENTICATED_READ", "AWS_EXEC_READ", "BUCKET_OWNER_READ", "BUCKET_OWNER_FULL_CONTROL")
	readBool(o, "GlueCatalogGeneration", &s.GlueCatalogGeneration)
	readString(o, "ExpectedBucketOwner", &s.ExpectedBucketOwner)
	readString(o, "ServiceAccessRoleArn", &s.ServiceAccessRoleArn)
	o.Unknown()
	s3TargetConflicts(o, s)
	return s
}

// readAliasedEnum reads an enum with several accepted spellings per value
// and stores the canonical one.
func readAliasedEnum(o *tabledefs.Object, key string, dst *string, aliases map[string]string) {
	s, ok := o.String(key, false)
	if !ok {
		return
	}
	if v, ok := aliases[s]; ok {
		*dst = v
		return
	}
	valid := make([]string, 0, len(aliases))
	for k, v := range aliases {
		if k == v {
			valid = append(valid, k)
		}
	}
	slices.Sort(valid)
	checkEnum(o.P, o.File, o.KeyPath(key), s, valid)
}

func s3TargetConflicts(o *tabledefs.Object, s *S3TargetSettings) {
	add := func(key, format string, args ...any) { o.P.Add(o.File, o.KeyPath(key), format, args...) }
	if s.CdcInsertsOnly && s.CdcInsertsAndUpdates {
		add("CdcInsertsAndUpdates", "conflicts with CdcInsertsOnly: set at most one of them")
	}
	if s.PreserveTransactions && s.CdcPath == "" {
		add("PreserveTransactions", "requires CdcPath")
	}
	if s.PreserveTransactions && s.DatePartitionEnabled {
		add("DatePartitionEnabled", "conflicts with PreserveTransactions")
	}
	if s.AddColumnName && (s.PreserveTransactions || s.CdcPath != "") {
		add("AddColumnName", "conflicts with PreserveTransactions/CdcPath")
	}
	if s.EncryptionMode == "SSE_KMS" && s.ServerSideEncryptionKmsKeyId == "" {
		add("ServerSideEncryptionKmsKeyId", "is required when EncryptionMode is \"SSE_KMS\"")
	}
	if s.EncryptionMode == "SSE_S3" && s.ServerSideEncryptionKmsKeyId != "" {
		add("ServerSideEncryptionKmsKeyId", "applies only when EncryptionMode is \"SSE_KMS\"")
	}
	if s.UseCsvNoSupValue && s.CsvNoSupValue == "" {
		add("CsvNoSupValue", "is required when UseCsvNoSupValue is true")
	}
}
