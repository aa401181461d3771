// The dashboard tour of test_horizon.py: Debian's chromium, headless,
// driven by playwright-core (NODE_PATH from tools/browser.sh).
//
//   node horizon_tour.js CONFIG_JSON
//
// CONFIG_JSON: url (Horizon's, ending in /), member and admin ({user,
// password}), shots (a directory for the screenshots), clusters (names
// made through the API, to wait for), detail (the name of the cluster
// whose detail page to open), template and cluster (names for the forms).
// Prints one JSON report on its last line: the text of each page seen, the
// answers of the dashboard's own /api/ calls (method, status, path) and the
// screenshots taken. Exits 1 on an error, after a screenshot of the page.
'use strict';

const path = require('path');
const { chromium } = require('playwright-core');

const cfg = JSON.parse(process.argv[2]);
const TIMEOUT = 60000;
const report = { pages: {}, api: [], shots: [], console: [] };

async function shot(page, name) {
  const file = path.join(cfg.shots, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  report.shots.push(file);
}

async function login(page, who, next) {
  await page.goto(cfg.url + 'auth/login/?next=' + next);
  await page.fill('#id_username', who.user);
  await page.fill('#id_password', who.password);
  await Promise.all([
    page.waitForURL((url) => !url.pathname.startsWith('/auth/login'),
                    { timeout: TIMEOUT }),
    page.click('#loginBtn'),
  ]);
}

// The rows of the page's table, once every name in ``names`` is in one.
async function rows(page, names) {
  for (const name of names) {
    await page.locator('table tbody tr', { hasText: name })
      .first().waitFor({ timeout: TIMEOUT });
  }
  return page.$$eval('table tbody tr',
                     (trs) => trs.map((tr) => tr.innerText));
}

async function submit(page, apiPath) {
  const [response] = await Promise.all([
    page.waitForResponse(
      (r) => r.request().method() === 'POST' && r.url().endsWith(apiPath),
      { timeout: TIMEOUT }),
    page.click('.modal-footer button:has-text("Submit")'),
  ]);
  return { status: response.status(), body: await response.text() };
}

async function tab(page, title) {
  await page.click('.wizard-nav >> text=' + title);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  try {
    const context = await browser.newContext(
      { viewport: { width: 1400, height: 1000 } });
    context.setDefaultTimeout(TIMEOUT);
    // NOTE: Horizon 27 lists availability zones as openstacksdk objects
    // ({"name": ...}), magnum-ui 19 reads "zoneName" (an incompatibility
    // of the two releases, whatever the cloud): the zone gets its old key
    // back in this one answer, or the cluster form's required zone can
    // never be chosen.
    await context.route('**/api/nova/availzones/**', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      for (const zone of body.items || []) {
        if (zone.zoneName === undefined) zone.zoneName = zone.name;
      }
      await route.fulfill({ response, json: body });
    });
    const page = await context.newPage();
    page.on('response', (r) => {
      const url = new URL(r.url());
      if (url.pathname.startsWith('/api/')) {
        report.api.push([r.request().method(), r.status(),
                         url.pathname + url.search]);
      }
    });
    page.on('console', (m) => {
      if (m.type() === 'error') report.console.push(m.text());
    });
    try {
      await tour(page);
    } catch (e) {
      await shot(page, 'failure').catch(() => {});
      throw e;
    } finally {
      console.log(JSON.stringify(report));
    }
  } finally {
    await browser.close();
  }
}

async function tour(page) {
  // Clusters: the API's clusters, with the stats and the quota donut.
  await login(page, cfg.member, '/project/clusters/');
  report.pages.clusters = await rows(page, cfg.clusters);
  await page.locator('text=/Used \\d+ of \\d+/').first().waitFor();
  report.pages.stats = await page.locator('body').innerText();
  // NOTE: the donut draws itself in an animation.
  await page.waitForTimeout(1500);
  await shot(page, 'clusters');

  // A cluster's detail page.
  await page.locator('table tbody tr a', { hasText: cfg.detail })
    .first().click();
  await page.waitForURL(/ngdetails\/OS::Magnum::Cluster\//);
  await page.locator('text=' + cfg.detail_uuid).first().waitFor();
  // (the template's part of the page comes with a second request)
  await page.locator('a', { hasText: cfg.api_template }).first().waitFor();
  report.pages.detail = await page.locator('body').innerText();
  await shot(page, 'cluster-detail');

  // Cluster Templates, and one made through the form.
  await page.goto(cfg.url + 'project/cluster_templates/');
  report.pages.templates = await rows(page, [cfg.api_template]);
  await shot(page, 'cluster-templates');
  await page.click('text=Create Cluster Template');
  await page.fill('.modal input[name=name]', cfg.template);
  await page.selectOption('.modal select[name=coe]', { label: 'Kubernetes' });
  await tab(page, 'Node Spec');
  await page.selectOption('.modal select[name=image_id]',
                          { label: cfg.image });
  await page.selectOption('.modal select[name=keypair_id]',
                          { label: cfg.keypair });
  await page.selectOption('.modal select[name=flavor_id]',
                          { label: cfg.flavor });
  await page.fill('.modal input[name=docker_volume_size]', '5');
  await tab(page, 'Network');
  await page.selectOption('.modal select[name=external_network_id]',
                          { label: 'public' });
  await page.fill('.modal input[name=dns_nameserver]', '8.8.8.8');
  await tab(page, 'Labels');
  await page.fill('.modal textarea[name=labels]', cfg.labels);
  await shot(page, 'cluster-template-form');
  report.template_created = await submit(
    page, '/api/container_infra/cluster_templates/');
  await rows(page, [cfg.template]);
  await shot(page, 'cluster-templates-after-create');

  // A cluster made through the form, from that template.
  await page.goto(cfg.url + 'project/clusters/');
  await rows(page, cfg.clusters);
  await page.click('text=Create Cluster');
  await page.fill('.modal input[name=name]', cfg.cluster);
  await page.selectOption('.modal select[name=cluster_template_id]',
                          { label: cfg.template });
  await page.selectOption('.modal select[name=availability_zone]',
                          { label: 'nova' });
  await page.selectOption('.modal select[name=keypair]',
                          { label: cfg.keypair });
  await tab(page, 'Size');
  await page.selectOption('.modal select[name=master_flavor_id]',
                          { label: cfg.flavor });
  await page.selectOption('.modal select[name=flavor_id]',
                          { label: cfg.flavor });
  await page.fill('.modal input[name=node_count]', '2');
  await shot(page, 'cluster-form');
  report.cluster_created = await submit(page, '/api/container_infra/clusters/');
  await rows(page, [cfg.cluster]);
  await shot(page, 'clusters-after-create');

  // The admin's Quotas panel (every project's quotas).
  // NOTE: Django 5 logs out on POST only; a new session is the same.
  await page.context().clearCookies();
  await login(page, cfg.admin, '/admin/');
  report.admin_links = await page.$$eval(
    'a[href*="quotas"]', (as) => as.map((a) => a.getAttribute('href')));
  const link = report.admin_links.find((h) => h.includes('container_infra'));
  await page.goto(new URL(link, cfg.url).href);
  report.pages.quotas = await rows(page, [cfg.quota_project]);
  await shot(page, 'admin-quotas');
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
