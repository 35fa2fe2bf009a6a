/**
 * The header.app_id the console's requests carry: the field in the top bar, so that a gateway
 * letting in only its own app ids (--app-id) can be tried with one of them.
 */
export function appIdField() {
  return document.getElementById('app-id').value.trim();
}
