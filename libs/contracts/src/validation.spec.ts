import { Type } from 'class-transformer';
import { plainToInstance } from 'class-transformer';
import { IsInt, IsString, Max, ValidateNested } from 'class-validator';
import { validateSync } from 'class-validator';
import { formatValidationErrors } from './validation';

class Inner {
  @IsInt() @Max(10) width: number;
}
class Outer {
  @IsString() name: string;
  @ValidateNested() @Type(() => Inner) screen: Inner;
}

describe('formatValidationErrors', () => {
  it('names every offending field by its full path', () => {
    const value = plainToInstance(Outer, { name: 1, screen: { width: 11, depth: 3 }, extra: true });
    const text = formatValidationErrors(validateSync(value, { whitelist: true, forbidNonWhitelisted: true }));
    expect(text).toContain('name must be a string');
    expect(text).toContain('screen.width must not be greater than 10');
    expect(text).toContain('property screen.depth should not exist');
    expect(text).toContain('property extra should not exist');
  });
});
