// Applies the saved or system colour scheme before the first paint (no flash of the wrong theme). A file
// rather than an inline script: Vigil's Content-Security-Policy allows scripts from 'self' only.
try {
  var saved = localStorage.getItem('mantine-color-scheme-value');
  var dark =
    saved === 'dark' || ((!saved || saved === 'auto') && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.setAttribute('data-mantine-color-scheme', dark ? 'dark' : 'light');
} catch {
  // Storage refused: Mantine decides once it starts.
}
