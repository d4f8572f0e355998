import { TemplateRenderer } from './template-renderer';

describe('TemplateRenderer.check', () => {
  const renderer = new TemplateRenderer();
  const sample = { customer: { firstName: 'Ada', tags: ['vip'] }, items: [{ name: 'Loan' }] };

  it('accepts references to declared variables, loop variables and array built-ins', () => {
    expect(
      renderer.check(
        {
          subject: 'Hi {{ customer.firstName | upcase }}',
          body: '{% for item in items %}{{ item.name }}{% endfor %} {{ customer.tags.size }} {{ items.first.name }}',
        },
        sample,
      ),
    ).toEqual([]);
  });

  it('names the field and the undeclared variable', () => {
    expect(
      renderer.check({ body: 'ok', html: '<b>{{ customer.lastName }}</b> {{ offer }}' }, sample),
    ).toEqual([
      { path: '/html', reason: 'variable "customer.lastName" is not declared in the sample' },
      { path: '/html', reason: 'variable "offer" is not declared in the sample' },
    ]);
  });

  it('reports syntax errors and unknown filters with the field', () => {
    const [syntax] = renderer.check({ body: '{% if customer %}open' }, sample);
    expect(syntax?.path).toBe('/body');
    expect(syntax?.reason).toMatch(/^Liquid: .*not closed/);
    const [filter] = renderer.check({ body: '{{ customer.firstName | shout }}' }, sample);
    expect(filter?.reason).toMatch(/undefined filter: shout/);
  });

  it('renders strictly: a missing variable is an error', () => {
    expect(renderer.render('Hi {{ name }}', { name: 'Ada' })).toBe('Hi Ada');
    expect(() => renderer.render('Hi {{ name }}', {})).toThrow(/undefined variable: name/);
  });

  it('renders tags and filters, and every field of a template', () => {
    expect(
      renderer.renderAll(
        {
          subject: '{{ customer.firstName | upcase }}',
          body: '{% for item in items %}{{ item.name }};{% endfor %}{% if customer.tags.size > 0 %} vip{% endif %}',
          html: '<b>{{ customer.firstName | escape }}</b>',
        },
        sample,
      ),
    ).toEqual({ subject: 'ADA', text: 'Loan; vip', html: '<b>Ada</b>' });
  });
});
