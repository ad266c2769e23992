/**
 * Copies text. The async Clipboard API needs a secure context (https or localhost) and focus;
 * elsewhere the text in `fallbackInput` is selected and copied with execCommand, and if that is
 * refused too the text stays selected for Ctrl+C.
 */
export async function copyText(text: string, fallbackInput?: HTMLInputElement | null) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    // fall through
  }
  if (!fallbackInput) return false
  fallbackInput.focus()
  fallbackInput.select()
  try {
    return document.execCommand('copy')
  } catch {
    return false
  }
}
