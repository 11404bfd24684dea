/** The app shell: sign-in, navigation, and the view of the current URL. */
export function App() {
  return <main>codestep console</main>;
}
