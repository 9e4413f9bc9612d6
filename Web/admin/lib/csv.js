// A CSV reader for files people export from spreadsheets: UTF-8 BOM, CRLF/LF/CR line ends, quoted fields with
// doubled quotes and line breaks inside, comma, semicolon (French Excel) or tab as separator, blank lines skipped.
// Each record keeps the line it starts on, so errors can name the line the person sees in their editor.

/** The separator used by the header line: the most frequent of , ; tab outside quotes. */
function detectSeparator(text) {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && ch in counts) counts[ch]++;
  }
  const [best, count] = Object.entries(counts).sort((a, b) => b[1] - a[1])[0];
  return count > 0 ? best : ',';
}

/**
 * Parses CSV text into {records: [{line, fields}], error}. `error` ({line, code}) is set when a quote is never
 * closed; the records read before it are still returned.
 */
export function parseCSV(input) {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const sep = detectSeparator(text);
  const records = [];
  let fields = [];
  let field = '';
  let quoted = false;     // inside quotes
  let wasQuoted = false;  // this field had quotes (keep its spaces)
  let line = 1;
  let recordLine = 1;
  const endField = () => {
    fields.push(wasQuoted ? field : field.trim());
    field = '';
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    if (fields.some((f) => f !== '')) records.push({ line: recordLine, fields });
    fields = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else {
        if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field.trim() === '') { quoted = true; wasQuoted = true; field = ''; }
    else if (ch === sep) endField();
    else if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else field += ch;
  }
  if (quoted) return { records, separator: sep, error: { line: recordLine, code: 'unclosed_quote' } };
  endRecord();
  return { records, separator: sep, error: null };
}

// Header names people use for each column, compared without case, spaces, dashes or underscores.
const ALIASES = {
  msisdn: ['msisdn', 'phone', 'phonenumber', 'mobile', 'tel', 'telephone'],
  amount: ['amount', 'value', 'montant'],
  stationScope: ['stationscope', 'station', 'stationid', 'stationcode', 'engencode'],
  expiresAt: ['expiresat', 'expires', 'expiry', 'expirydate', 'expiration'],
};

/** Which column holds what: {columns: {msisdn: 0, ...}, unknown: [names], missing: [names]}. */
export function mapHeader(header) {
  const columns = {};
  const unknown = [];
  header.forEach((name, index) => {
    const key = name.toLowerCase().replace(/[\s_-]/g, '');
    const column = Object.keys(ALIASES).find((c) => ALIASES[c].includes(key));
    if (column && !(column in columns)) columns[column] = index;
    else if (name) unknown.push(name);
  });
  const missing = ['msisdn', 'amount'].filter((c) => !(c in columns));
  return { columns, unknown, missing };
}

// ---------------------------------------------------------------- writing

/** One CSV field: quoted when it holds a comma, a quote, a line break or edge spaces (quotes doubled). */
export function csvField(value) {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A whole RFC 4180 file: a header row, then a row per item; `columns` are [header, (item) => value]; CRLF line ends. */
export function csvFile(columns, items) {
  const lines = [columns.map(([name]) => csvField(name)).join(',')];
  for (const item of items) lines.push(columns.map(([, value]) => csvField(value(item))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
