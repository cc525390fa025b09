// Where an approval link opens. The server issues `/m/approve/TOKEN`, but its
// UI fallback takes a last path part with a '.' (every token has one) for a
// missing file and answers 404; `/m/approve#TOKEN` reaches the page, and the
// token stays out of server logs and Referer headers.
export const approvalPath = (token) => `/m/approve#${encodeURIComponent(token)}`
