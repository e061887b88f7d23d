// Docusaurus configuration of the local API documentation, served by the sidecar under /docusaurus/.

import { themes as prismThemes } from 'prism-react-renderer';

/** @type {import('@docusaurus/types').Config} */
const config = {
  title: 'MetoYou Local API',
  tagline: 'Read your desktop chat data from local scripts',
  url: 'http://127.0.0.1:17878',
  // The sidecar serves the build under this prefix; problem `type` URIs point into it.
  baseUrl: '/docusaurus/',
  onBrokenLinks: 'throw',
  onBrokenAnchors: 'throw',
  markdown: {
    // .md files are CommonMark, so `{roomId}` or `<token>` in generated text is not read as JSX.
    format: 'detect',
    hooks: { onBrokenMarkdownLinks: 'throw' },
  },
  i18n: { defaultLocale: 'en', locales: ['en'] },
  // The site is served from the user's own machine and is not meant for search engines.
  noIndex: true,
  // The banner script only helps sites deployed under a wrong baseUrl; here it would be one more inline script.
  baseUrlIssueBanner: false,

  presets: [
    [
      'classic',
      /** @type {import('@docusaurus/preset-classic').Options} */
      ({
        docs: {
          routeBasePath: 'docs',
          sidebarPath: './sidebars.js',
        },
        blog: false,
        theme: { customCss: './src/css/custom.css' },
        sitemap: false,
      }),
    ],
  ],

  themeConfig:
    /** @type {import('@docusaurus/preset-classic').ThemeConfig} */
    ({
      colorMode: { respectPrefersColorScheme: true },
      navbar: {
        title: 'MetoYou Local API',
        items: [
          { type: 'docSidebar', sidebarId: 'guide', position: 'left', label: 'Guide' },
          { to: '/docs/reference', label: 'Local API', position: 'left' },
          { to: '/docs/errors', label: 'Error codes', position: 'left' },
          // These pages belong to the API server, not to this site, so they must not get the /docusaurus/ prefix.
          {
            href: '/docs',
            label: 'Scalar reference',
            position: 'right',
            autoAddBaseUrl: false,
            target: '_blank',
            rel: 'noopener noreferrer',
          },
          {
            href: '/api/openapi.json',
            label: 'OpenAPI JSON',
            position: 'right',
            autoAddBaseUrl: false,
            target: '_blank',
            rel: 'noopener noreferrer',
          },
        ],
      },
      footer: {
        style: 'dark',
        copyright: 'MetoYou Local API. These pages are served by the desktop app and work offline.',
      },
      prism: {
        theme: prismThemes.github,
        darkTheme: prismThemes.dracula,
        additionalLanguages: ['bash', 'python', 'json'],
      },
    }),
};

export default config;
