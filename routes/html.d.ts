// `.html` files are imported as text (Wrangler's default module rules).
declare module '*.html' {
  const text: string;
  export default text;
}
